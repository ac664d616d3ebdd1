"""Demo conversations in Italian."""

from __future__ import annotations

from frontdesk.demo.content import Phrases, Scenario

PHRASES = Phrases(
    nudge="Buongiorno, volevo sapere se qualcuno ha già avuto modo di guardare la mia richiesta. "
    "Grazie.",
    thanks="Perfetto, adesso funziona tutto. Grazie mille per l'aiuto!",
    duplicate="Scusate, non so se il mio primo messaggio è arrivato, quindi lo rimando: il "
    "problema c'è ancora.",
)

SCENARIOS = [
    Scenario(
        queue="billing",
        subject="Fattura n. {order} con importo errato",
        opening="Buongiorno,\n\nnella fattura n. {order} ci sono stati addebitati 12 utenti, ma "
        "il nostro contratto ne prevede 10. Potete verificare e inviarci una nota di credito?\n\n"
        "Cordiali saluti",
        answer="Gentile {name},\n\ngrazie della segnalazione. Potrebbe indicarmi se i due utenti "
        "in più sono stati aggiunti da un amministratore del vostro account nel mese scorso?\n\n"
        "Un saluto,\n{agent}",
        followup="Ho controllato: sono due colleghi che hanno fatto solo una prova e poi sono "
        "stati disattivati.",
        resolution="Gentile {name},\n\nho emesso una nota di credito per i due utenti, che "
        "troverà in allegato. L'importo verrà scalato dalla prossima fattura.\n\n{agent}",
        note="Utenti di prova fatturati per errore: nota di credito emessa.",
        tags=("fattura", "rimborso"),
        priority="high",
    ),
    Scenario(
        queue="technical",
        subject="L'app non sincronizza i contatti",
        opening="Salve, da ieri l'app sul mio iPhone non sincronizza più i contatti: quelli nuovi "
        "creati dal computer non compaiono. Ho già provato a reinstallarla.",
        answer="Ciao {name},\n\nmi dispiace per il disagio. Può dirmi quale versione dell'app e di "
        "iOS sta usando? Le trova in Impostazioni > Generali > Info.\n\n{agent}",
        followup="App versione 3.8.0, iOS 17.4.",
        resolution="Ciao {name},\n\nabbiamo corretto un errore del server che bloccava la "
        "sincronizzazione per alcuni account. Ora i contatti dovrebbero comparire entro pochi "
        "minuti.\n\nA presto,\n{agent}",
        note="Coda di sincronizzazione bloccata per gli account migrati a marzo; svuotata.",
        tags=("sincronizzazione", "ios"),
        fields={"product": "Mobile app", "reproducible": True, "app_version": "3.8.0"},
    ),
    Scenario(
        queue="general",
        subject="Richiesta di disdetta dell'abbonamento",
        opening="Buongiorno, vorrei disdire il mio abbonamento alla scadenza del contratto. Cosa "
        "devo fare per non perdere i dati?",
        answer="Gentile {name},\n\nci dispiace vederla andare via. Prima della scadenza può "
        "esportare tutti i dati da Impostazioni > Esporta. Vuole che proceda io con la disdetta "
        "a fine periodo?\n\n{agent}",
        followup="Sì, grazie. Ho già esportato tutto.",
        resolution="Fatto: l'abbonamento terminerà alla scadenza e non verrà rinnovato. Se cambia "
        "idea, basta rispondere a questo messaggio.\n\nUn cordiale saluto,\n{agent}",
        note="Motivo della disdetta: costi. Segnalato al commerciale per eventuale offerta.",
        tags=("disdetta",),
        priority="low",
    ),
    Scenario(
        queue="sales",
        subject="Informazioni sul piano Enterprise",
        opening="Salve, siamo un'azienda di 120 dipendenti e vorremmo sapere se il piano "
        "Enterprise include il single sign-on e l'hosting dei dati in Europa.",
        answer="Buongiorno {name},\n\nsì, il piano Enterprise include SSO (SAML e OIDC) e i dati "
        "possono restare nel nostro data center di Francoforte. Le andrebbe una breve demo "
        "questa settimana?\n\n{agent}",
        followup="Volentieri, giovedì pomeriggio andrebbe bene.",
        resolution="Perfetto, le ho inviato l'invito per giovedì alle 15:00. A giovedì!\n\n{agent}",
        note="Lead interessante: 120 posti, requisito GDPR forte.",
        tags=("enterprise", "demo"),
    ),
    Scenario(
        queue="technical",
        subject="Errore 500 quando carico un allegato",
        opening='Quando provo a caricare un file PDF di 8 MB nel ticket compare "Errore 500". '
        "Con file più piccoli funziona.",
        answer="Ciao {name},\n\ngrazie, il dettaglio sulla dimensione è utile. Il problema si "
        "presenta con qualsiasi PDF grande o solo con quel file?\n\n{agent}",
        followup="Ho provato con altri due PDF sopra i 5 MB: stesso errore.",
        resolution="Abbiamo aumentato il limite del proxy che bloccava i file sopra i 5 MB. Ora "
        "il caricamento funziona fino a 25 MB.\n\nBuon lavoro,\n{agent}",
        note="Limite client_max_body_size del proxy a 5 MB dopo la migrazione; riportato a 25 MB.",
        tags=("allegati", "bug"),
        priority="high",
        fields={"product": "Web app", "reproducible": True},
    ),
    Scenario(
        queue="billing",
        subject="Cambio del metodo di pagamento",
        opening="Buongiorno, vorremmo passare dal pagamento con carta al bonifico bancario. È "
        "possibile per il piano annuale?",
        answer="Gentile {name},\n\ncerto, per i piani annuali accettiamo il bonifico. Mi "
        "conferma la ragione sociale e la partita IVA da indicare in fattura?\n\n{agent}",
        followup="Costruzioni Rossi S.p.A., P.IVA 01234560987.",
        resolution="Ho aggiornato il metodo di pagamento: dal prossimo rinnovo riceverete la "
        "fattura con le coordinate bancarie.\n\n{agent}",
        note="Metodo di pagamento cambiato in bonifico, termini 30 giorni.",
        tags=("pagamenti",),
    ),
    Scenario(
        queue="general",
        subject="Come aggiungo un collega al nostro account?",
        opening="Ciao, un nuovo collega ha iniziato oggi. Come faccio a dargli accesso al nostro "
        "spazio di lavoro?",
        answer="Ciao {name},\n\nbasta andare in Impostazioni > Utenti > Invita e inserire il suo "
        "indirizzo email. Riceverà un invito valido 7 giorni. Vuoi che lo faccia io?\n\n{agent}",
        followup="Ci ho provato ma il pulsante Invita è grigio.",
        resolution="Il pulsante era disattivato perché avevate raggiunto il numero massimo di "
        "utenti del piano. Ho aggiunto un posto di cortesia per questo mese.\n\n{agent}",
        note="Limite utenti raggiunto: proporre upgrade al rinnovo.",
        tags=("utenti", "account"),
        priority="low",
    ),
    Scenario(
        queue="technical",
        subject="Le notifiche email arrivano in ritardo",
        opening="Da qualche giorno le email di notifica arrivano con più di un'ora di ritardo. "
        "Per noi è un problema serio perché gestiamo urgenze.",
        answer="Gentile {name},\n\ncapisco l'urgenza. Può inoltrarmi una delle email arrivate in "
        "ritardo con le intestazioni complete? Così vediamo dove si ferma.\n\n{agent}",
        followup="Ecco le intestazioni: il messaggio resta un'ora sul vostro server di invio.",
        resolution="Grazie, era proprio così: una coda di invio era sovraccarica. L'abbiamo "
        "potenziata e ora le notifiche partono in pochi secondi.\n\n{agent}",
        note="Coda SMTP eu-2 satura; aggiunti due worker.",
        tags=("notifiche", "email"),
        priority="urgent",
        fields={"product": "Integrations", "reproducible": False},
    ),
]
