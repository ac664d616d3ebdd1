"""Demo conversations in Romanian."""

from __future__ import annotations

from frontdesk.demo.content import Phrases, Scenario

PHRASES = Phrases(
    nudge="Bună ziua, voiam să întreb dacă s-a uitat cineva la solicitarea mea. Mulțumesc.",
    thanks="Acum merge totul perfect. Vă mulțumesc mult pentru ajutor!",
    duplicate="Scuzați, nu știu dacă primul meu mesaj a ajuns, așa că îl trimit din nou: "
    "problema persistă.",
)

SCENARIOS = [
    Scenario(
        queue="billing",
        subject="Plată dublă pentru comanda {order}",
        opening="Bună ziua,\n\nAm fost taxat de două ori pentru comanda {order}. Ambele sume apar "
        "în extrasul de cont. Vă rog să returnați una dintre plăți.\n\nCu stimă",
        answer="Bună ziua, {name},\n\nNe pare rău pentru neplăcere. Îmi puteți trimite ultimele "
        "patru cifre ale cardului, ca să identific tranzacțiile la procesatorul de plăți?\n\n"
        "Cu stimă,\n{agent}",
        followup="Desigur, cardul se termină în 9021.",
        resolution="Mulțumesc, {name}. A doua plată a fost anulată; suma va reapărea în cont în "
        "3-5 zile lucrătoare.\n\n{agent}",
        note="Autorizare dublată de pagina de plată; anulată din panoul procesatorului.",
        tags=("rambursare", "plăți"),
        priority="high",
    ),
    Scenario(
        queue="technical",
        subject="Aplicația nu pornește după actualizare",
        opening="După ultima actualizare, aplicația de pe telefon se închide imediat ce o "
        "deschid. Am un Samsung Galaxy A54.",
        answer="Bună, {name},\n\nÎmi pare rău pentru problemă. Ați putea încerca să ștergeți "
        "memoria cache a aplicației din Setări > Aplicații? Dacă tot nu merge, spuneți-mi ce "
        "versiune de Android aveți.\n\n{agent}",
        followup="Am șters memoria cache, tot nu merge. Am Android 14.",
        resolution="Am identificat eroarea: apărea doar pe Android 14 cu limba română setată. "
        "Versiunea 3.8.2 din Magazin Play o rezolvă.\n\nO zi bună,\n{agent}",
        note="Crash la formatarea datelor cu locale ro-RO pe Android 14; reparat în 3.8.2.",
        tags=("android", "bug"),
        priority="urgent",
        fields={"product": "Mobile app", "reproducible": True, "app_version": "3.8.1"},
    ),
    Scenario(
        queue="general",
        subject="Cum schimb limba interfeței?",
        opening="Salut! Interfața îmi apare în engleză, deși am ales româna la înregistrare. "
        "Unde pot schimba limba?",
        answer="Bună, {name},\n\nLimba se schimbă din Profil > Preferințe > Limbă. Dacă opțiunea "
        "nu apare, îmi spuneți ce browser folosiți?\n\n{agent}",
        followup="Folosesc Firefox și opțiunea apare, dar după salvare revine la engleză.",
        resolution="Am găsit cauza: preferința era suprascrisă de limba browserului. Am corectat "
        "setarea contului dumneavoastră și problema a fost raportată echipei.\n\n{agent}",
        note="Preferința de limbă e ignorată când Accept-Language diferă; bug raportat.",
        tags=("limbă", "cont"),
        priority="low",
    ),
    Scenario(
        queue="sales",
        subject="Ofertă pentru 40 de utilizatori",
        opening="Bună ziua, suntem o firmă de logistică și dorim o ofertă pentru 40 de "
        "utilizatori, cu plată anuală în lei.",
        answer="Bună ziua, {name},\n\nVă mulțumim pentru interes! Putem factura în lei. Aveți "
        "nevoie și de integrarea cu sistemul de facturare electronică?\n\n{agent}",
        followup="Da, folosim e-Factura și ar fi foarte util.",
        resolution="Am atașat oferta pentru 40 de utilizatori, cu integrarea e-Factura inclusă. "
        "Oferta este valabilă 30 de zile.\n\n{agent}",
        note="Client potențial bun; discount de volum aprobat de vânzări.",
        tags=("ofertă",),
    ),
    Scenario(
        queue="technical",
        subject="Raportul lunar nu se generează",
        opening='Raportul lunar de activitate rămâne la "Se generează..." de ieri dimineață. '
        "Avem nevoie de el pentru ședința de luni.",
        answer="Bună ziua, {name},\n\nMă uit imediat. Raportul este pentru toate echipele sau "
        "doar pentru una anume?\n\n{agent}",
        followup="Pentru toate echipele, luna trecută.",
        resolution="Raportul s-a blocat din cauza unui fus orar greșit la o echipă. L-am "
        "regenerat și îl găsiți acum în secțiunea Rapoarte.\n\n{agent}",
        note="Job de raport blocat din cauza fusului orar invalid al echipei Cluj.",
        tags=("rapoarte",),
        priority="high",
        fields={"product": "Web app", "reproducible": False},
    ),
    Scenario(
        queue="billing",
        subject="Factura nu conține CUI-ul firmei",
        opening="Bună ziua, factura {order} nu conține codul unic de înregistrare al firmei. "
        "Contabilitatea nu o poate înregistra așa.",
        answer="Bună ziua, {name},\n\nSigur, o reemit. Îmi confirmați CUI-ul și adresa "
        "sediului social?\n\n{agent}",
        followup="CUI RO12345678, str. Fabricii nr. 10, Cluj-Napoca.",
        resolution="Factura corectată este atașată, iar datele firmei au fost salvate pentru "
        "facturile viitoare.\n\n{agent}",
        note="Datele de facturare completate în profilul clientului.",
        tags=("factură",),
    ),
    Scenario(
        queue="general",
        subject="Resetarea parolei nu funcționează",
        opening="Am cerut resetarea parolei de trei ori, dar nu primesc niciun email. Am "
        "verificat și în Spam.",
        answer="Bună, {name},\n\nÎmi confirmați adresa de email a contului? Uneori contul este "
        "creat cu o altă adresă decât cea folosită zilnic.\n\n{agent}",
        followup="E adresa de la care vă scriu acum.",
        resolution="Serverul firmei dumneavoastră respingea emailurile noastre. Am trimis "
        "linkul de resetare manual; vă rog să cereți departamentului IT să ne adauge în lista "
        "albă.\n\n{agent}",
        note="Emailurile respinse de serverul clientului (SPF strict).",
        tags=("parolă", "email"),
    ),
    Scenario(
        queue="technical",
        subject="Integrarea cu API-ul returnează eroarea 429",
        opening="Integrarea noastră primește des eroarea 429 Too Many Requests, deși facem "
        "doar câteva sute de cereri pe oră.",
        answer="Bună ziua, {name},\n\nLimita este de 600 de cereri pe minut per token. Folosiți "
        "același token pe mai multe servere? Îmi puteți trimite prefixul tokenului?\n\n{agent}",
        followup="Da, trei servere folosesc același token: fdt_a81c2.",
        resolution="Am mărit limita pentru contul dumneavoastră și vă recomandăm câte un token "
        "pe server, pentru o evidență mai clară.\n\n{agent}",
        note="Limită ridicată la 1500/min pentru acest cont.",
        tags=("api", "limite"),
        fields={"product": "API", "reproducible": True},
    ),
]
