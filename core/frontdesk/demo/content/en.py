"""Demo conversations in English."""

from __future__ import annotations

from frontdesk.demo.content import Phrases, Scenario

PHRASES = Phrases(
    nudge="Hi, just checking whether anyone has had a chance to look at this yet? Thanks.",
    thanks="That did it, thank you so much for the quick help!",
    duplicate="Sorry, I'm not sure my first message came through, so I'm sending it again: "
    "the problem is still there.",
)

SCENARIOS = [
    Scenario(
        queue="billing",
        subject="Charged twice for order #{order}",
        opening="Hello,\n\nI was charged twice for order #{order} this morning. Both payments show "
        "up on my card statement as pending. Could you please refund one of them?\n\nThanks",
        answer="Hi {name},\n\nSorry about that. I can see two authorisations for #{order}. Could "
        "you tell me the last four digits of the card so I can match them with the payment "
        "processor?\n\nBest regards,\n{agent}",
        followup="Sure, the card ends in 4417.",
        resolution="Thanks {name}. The second charge was a duplicate authorisation and I have "
        "voided it; it will disappear from your statement within 3-5 business days.\n\n{agent}",
        note="Duplicate auth caused by the payment page being submitted twice; voided in the "
        "processor dashboard.",
        tags=("refund", "payments"),
        priority="high",
    ),
    Scenario(
        queue="technical",
        subject="Cannot log in after password reset",
        opening="Hi, I reset my password yesterday but the login page keeps saying "
        '"invalid credentials". I tried two browsers. What am I doing wrong?',
        answer="Hi {name},\n\nThanks for the details. Could you try once more in a private window "
        "and tell me the exact time you tried? That lets me find the attempt in our logs.\n\n"
        "{agent}",
        followup="Just tried again at 14:32 in a private window. Same error.",
        resolution="Found it: your account was still locked after too many attempts before the "
        "reset. I've unlocked it, so you can sign in now.\n\nKind regards,\n{agent}",
        note="Lockout counter is not cleared on password reset. Filed as a bug for the web team.",
        tags=("login", "bug"),
        priority="high",
        fields={"product": "Web app", "reproducible": True, "app_version": "4.12.0"},
    ),
    Scenario(
        queue="technical",
        subject="Export to CSV produces an empty file",
        opening="When I export my contacts to CSV the downloaded file is 0 bytes. It worked fine "
        "last month. I have about 3,000 contacts.",
        answer="Hi {name},\n\nI'm sorry for the trouble. Does the export also fail if you filter "
        "the list down to a few contacts first? That tells us whether it's the size.\n\n{agent}",
        followup="With a filter of 50 contacts the export works. With everything it's empty.",
        resolution="Thanks, that helped a lot. Large exports timed out silently; the fix is live "
        "and exports now run in the background and arrive by email.\n\n{agent}",
        note="Reproduced with 2,500+ rows. Export job now runs async; confirmed with the "
        "customer's account.",
        tags=("export",),
        fields={"product": "Web app", "reproducible": True},
    ),
    Scenario(
        queue="sales",
        subject="Quote for 25 seats on the Team plan",
        opening="Hello, we're a team of 25 and would like a quote for the Team plan billed "
        "annually. Do you offer a discount for non-profits?",
        answer="Hi {name},\n\nThanks for your interest! We do offer 30% off for registered "
        "non-profits. Could you send me your registration number so I can prepare the quote?\n\n"
        "{agent}",
        followup="Of course, our charity registration number is 1183402.",
        resolution="Thank you, {name}. The quote with the non-profit discount is attached to this "
        "email and valid for 30 days. Let me know if you'd like a call to go through it.\n\n"
        "{agent}",
        note="Verified the charity number in the public register.",
        tags=("quote", "nonprofit"),
    ),
    Scenario(
        queue="general",
        subject="How do I change the email address on my account?",
        opening="Hi there, I changed jobs and need to move my account to my new email address. "
        "I can't find the option in the settings.",
        answer="Hi {name},\n\nYou can do that under Settings > Profile > Email. If the field is "
        "greyed out, your account is managed by your company and I can change it for you: just "
        "reply with the new address.\n\n{agent}",
        followup="It's greyed out indeed. The new address is my.new.address@example.com.",
        resolution="Done! Your account now uses the new address and we've sent a confirmation "
        "link there.\n\nCheers,\n{agent}",
        note="Managed account: changed the email on behalf of the customer after checking the "
        "request came from the old address.",
        tags=("account",),
        priority="low",
    ),
    Scenario(
        queue="technical",
        subject="Mobile app crashes when opening attachments",
        opening="The Android app closes every time I tap a PDF attachment in a conversation. "
        "Phone is a Pixel 7 on Android 14.",
        answer="Hi {name},\n\nThanks for reporting this. Which version of the app do you have "
        "(Settings > About)? And does it happen with images too or only PDFs?\n\n{agent}",
        followup="Version 3.8.1. Images open fine, only PDFs crash.",
        resolution="We've confirmed the bug and version 3.8.2, now in the Play Store, fixes it. "
        "Sorry for the inconvenience!\n\n{agent}",
        note="Crash in the PDF preview on Android 14 only; fixed in 3.8.2.",
        tags=("android", "crash", "bug"),
        priority="urgent",
        fields={"product": "Mobile app", "reproducible": True, "app_version": "3.8.1"},
    ),
    Scenario(
        queue="billing",
        subject="Invoice needs our VAT number",
        opening="Hi, could you reissue invoice INV-{order} with our company VAT number "
        "GB 294 1183 77? Our accountant can't book it without it.",
        answer="Hi {name},\n\nCertainly. Should the company name on the invoice stay the same, "
        "or do you need the full legal name as well?\n\n{agent}",
        followup="Please use the full legal name: Northwind Trading Ltd.",
        resolution="Here you go: the corrected invoice is attached and future invoices will "
        "include the VAT number automatically.\n\n{agent}",
        note="Updated the billing profile so this doesn't happen again.",
        tags=("invoice", "vat"),
    ),
    Scenario(
        queue="technical",
        subject="Webhook deliveries failing with 401",
        opening="Since yesterday all webhook deliveries to our endpoint fail with 401. We rotated "
        "our API secret on Monday, could that be related?",
        answer="Hi {name},\n\nVery likely. Webhooks are signed with the secret that was active "
        "when the webhook was created. Could you confirm which webhook IDs are affected?\n\n"
        "{agent}",
        followup="It's wh_5512 and wh_5513.",
        resolution="I've re-signed both webhooks with your new secret and replayed the failed "
        "deliveries from the last 48 hours. Everything is green again.\n\n{agent}",
        note="Secret rotation should re-sign webhooks automatically; raised with the API team.",
        tags=("api", "webhooks"),
        priority="high",
        fields={"product": "API", "reproducible": True},
    ),
    Scenario(
        queue="general",
        subject="Feedback: love the new dashboard",
        opening="Just wanted to say the new dashboard is great, much faster than before. One "
        "wish: could the charts remember the date range I picked last time?",
        answer="Hi {name},\n\nThank you, that's lovely to hear! Would you like the date range to "
        "be remembered per chart or for the whole dashboard?\n\n{agent}",
        followup="For the whole dashboard would be perfect.",
        resolution="I've passed this on to the product team as a feature request and added your "
        "vote. Thanks again for taking the time to write.\n\n{agent}",
        note="Feature request logged: remember dashboard date range.",
        tags=("feedback", "feature-request"),
        priority="low",
    ),
]
