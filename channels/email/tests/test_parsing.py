"""Parsing real-world mail: charsets, encoded words, MIME limits, HTML, files, quotes."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from inbound_helpers import fixture_mail, make_mail  # noqa: E402

from frontdesk_email.parsing import Limits, MailRejected, parse_mail  # noqa: E402


@pytest.mark.parametrize(
    ("name", "sender_name", "subject", "filename", "body_start"),
    [
        (
            "persian-utf8.eml",
            "مریم احمدی",
            "درخواست پشتیبانی: چاپگر کار نمی\u200cکند",
            "فاکتور خرید.pdf",
            "سلام،\nچاپگر طبقه دوم",
        ),
        (
            "russian-koi8r.eml",
            "Дмитрий Иванов",
            "Не работает принтер в офисе",
            "Счёт на оплату.pdf",
            "Здравствуйте!\nПринтер не печатает",
        ),
        (
            "romanian-iso8859-16.eml",
            "Ștefan Țurcanu",
            "Solicitare: factură și chitanță pentru luna în curs",
            "factură și chitanță.pdf",
            "Bună ziua,\nVă rog să îmi trimiteți factura și chitanța.",
        ),
        (
            "italian-latin1.eml",
            "Niccolò Bianchi",
            "Perché la fattura è sbagliata? Città: Forlì",
            "ricevuta città più così.pdf",
            "Buongiorno,\nla fattura di marzo è sbagliata",
        ),
    ],
)
def test_subjects_names_filenames_and_bodies_come_out_exact(
    name, sender_name, subject, filename, body_start
):
    parsed = parse_mail(fixture_mail(name))
    message = parsed.message
    assert message.sender_name == sender_name
    assert message.subject == subject
    assert [a.filename for a in message.attachments] == [filename]
    assert message.attachments[0].data.startswith(b"%PDF")
    assert message.body_text.startswith(body_start)
    assert "\ufffd" not in message.body_text + message.subject
    assert parsed.notes == []


def test_an_encoded_word_split_inside_a_character_is_joined():
    parsed = parse_mail(fixture_mail("romanian-utf8-split-word.eml"))
    assert parsed.message.subject == "Întrebare: rețea și imprimantă"
    assert parsed.message.body_text == "Rețeaua nu funcționează.\n"


def test_bytes_invalid_in_the_declared_charset_become_replacement_characters():
    parsed = parse_mail(fixture_mail("wrong-charset.eml"))
    assert parsed.message.body_text == "caff\ufffd gi\ufffd\n"
    assert any("replaced" in note for note in parsed.notes)


def test_an_unknown_charset_is_read_as_utf8_and_noted():
    parsed = parse_mail(fixture_mail("unknown-charset.eml"))
    assert parsed.message.body_text == "naïve café\n"
    assert parsed.message.subject == "Qapla'"
    assert parsed.notes == ["unknown charset 'x-klingon'; read as UTF-8"]


def test_raw_8bit_header_bytes_are_read_in_the_message_charset():
    parsed = parse_mail(fixture_mail("raw-8bit-header.eml"))
    assert parsed.message.subject == "Ciao, è già pronto?"
    assert parsed.message.body_text == "Sì, grazie.\n"


def test_undecodable_bytes_without_any_charset_never_crash():
    raw = b"From: x@example.com\r\nSubject: \xff\xfe bad\r\n\r\nbody \xff\xfe\x00 end\r\n"
    message = parse_mail(raw).message
    assert message.subject == "\ufffd\ufffd bad"
    assert message.body_text == "body \ufffd\ufffd\ufffd end\n"  # NUL is not stored either


def test_missing_message_id_is_derived_stably_ignoring_trace_headers():
    raw = make_mail(message_id=None)
    redelivered = b"Received: from relay.example.net by mx.example.org\r\n" + raw
    first, second = parse_mail(raw), parse_mail(redelivered)
    assert first.message_id_derived and first.message_id.endswith("@derived.frontdesk.invalid>")
    assert first.message_id == second.message_id == first.message.external_id
    other = parse_mail(make_mail(message_id=None, body="something else"))
    assert other.message_id != first.message_id


def test_missing_date_is_noted_and_the_message_still_parses():
    raw = b"From: a@example.com\r\nSubject: no date\r\nMessage-ID: <d@x>\r\n\r\nhello\r\n"
    parsed = parse_mail(raw)
    assert "date" not in parsed.message.meta
    assert "no readable Date header" in parsed.notes
    assert parse_mail(make_mail()).message.meta["date"].endswith("+00:00")


def test_inline_cid_images_are_kept_as_attachments_with_their_content_id():
    raw = make_mail(html='<p>Look:</p><img src="cid:shot1@example.com">')
    from email import message_from_bytes, policy

    mail = message_from_bytes(raw, policy=policy.default)
    html_part = mail.get_body(("html",))
    html_part.add_related(b"\x89PNG fake", "image", "png", cid="<shot1@example.com>")
    message = parse_mail(mail.as_bytes()).message
    [image] = message.attachments
    assert image.content_id == "shot1@example.com"
    assert image.media_type == "image/png" and image.data == b"\x89PNG fake"
    assert 'src="cid:shot1@example.com"' in message.body_html


def test_html_is_sanitised_and_remote_resources_and_pixels_are_gone():
    html = (
        '<p onclick="steal()">Hi<script>alert(1)</script></p>'
        '<img src="https://tracker.example.net/pixel.gif?u=1" width="1" height="1">'
        '<link rel="stylesheet" href="https://evil.example.net/x.css">'
        '<iframe src="https://evil.example.net"></iframe><a href="javascript:alert(1)">x</a>'
    )
    message = parse_mail(make_mail(html=html)).message
    assert "<p>Hi</p>" in message.body_html
    for bad in ("script", "onclick", "tracker.example.net", "evil.example.net", "javascript:"):
        assert bad not in message.body_html


def test_html_only_mail_gets_a_text_body():
    raw = (
        b"From: a@example.com\r\nSubject: html\r\nMessage-ID: <h@x>\r\n"
        b"Content-Type: text/html; charset=utf-8\r\n\r\n<p>Hello <b>there</b></p><p>Bye</p>\r\n"
    )
    message = parse_mail(raw).message
    assert message.body_text == "Hello there\nBye"


@pytest.mark.parametrize(
    "evil", ["../../etc/passwd", "C:\\Users\\me\\evil.exe", "/tmp/x/report.pdf"]
)
def test_attachment_names_lose_their_paths(evil):
    message = parse_mail(make_mail(attachments=[(evil, b"data", "application/pdf")])).message
    name = message.attachments[0].filename
    assert "/" not in name and "\\" not in name
    assert name == evil.replace("\\", "/").rsplit("/", 1)[-1]


def test_unnamed_attachments_get_a_name_from_their_type():
    raw = (
        b"From: a@example.com\r\nSubject: s\r\nMessage-ID: <n@x>\r\n"
        b'Content-Type: multipart/mixed; boundary="B"\r\n\r\n--B\r\n'
        b"Content-Type: text/plain\r\n\r\nhi\r\n--B\r\nContent-Type: image/png\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\niVBORw==\r\n--B--\r\n"
    )
    assert [a.filename for a in parse_mail(raw).message.attachments] == ["attachment-1.png"]


def _nested(depth: int) -> bytes:
    head = b"From: a@example.com\r\nSubject: deep\r\nMessage-ID: <deep@x>\r\n"
    body = b"Content-Type: text/plain\r\n\r\nbottom\r\n"
    for level in range(depth):
        boundary = f"L{level}".encode()
        body = (
            b'Content-Type: multipart/mixed; boundary="' + boundary + b'"\r\n\r\n--'
            + boundary + b"\r\n" + body + b"--" + boundary + b"--\r\n"
        )
    return head + body


def test_mime_nesting_and_part_count_limits_reject_the_message():
    assert parse_mail(_nested(5), Limits(max_depth=10)).message.body_text == "bottom"
    with pytest.raises(MailRejected, match="nested more than 10 levels"):
        parse_mail(_nested(12), Limits(max_depth=10))
    files = [(f"f{i}.txt", b"x", "text/plain") for i in range(12)]
    with pytest.raises(MailRejected, match="more than 10 MIME parts"):
        parse_mail(make_mail(attachments=files), Limits(max_parts=10))


def test_alternatives_give_one_text_and_one_html_body():
    message = parse_mail(make_mail(body="plain words", html="<p>html words</p>")).message
    assert message.body_text == "plain words\n"
    assert message.body_html == "<p>html words</p>\n"
    assert message.attachments == []


def test_a_forwarded_message_is_an_attachment_not_part_of_the_body():
    inner = make_mail(subject="Original question", body="inner body text")
    from email import message_from_bytes, policy

    outer = message_from_bytes(make_mail(body="see below"), policy=policy.default)
    outer.add_attachment(message_from_bytes(inner, policy=policy.default))
    message = parse_mail(outer.as_bytes()).message
    assert message.body_text == "see below\n"
    [eml] = message.attachments
    assert eml.filename == "Original question.eml" and eml.media_type == "message/rfc822"
    assert b"inner body text" in eml.data


def test_an_overlong_body_is_shortened_and_kept_whole_as_an_attachment():
    text = "word " * 400
    message = parse_mail(make_mail(body=text), Limits(max_body_chars=500)).message
    assert len(message.body_text) <= 500 and "message.txt" in message.body_text
    [full] = message.attachments
    assert full.filename == "message.txt" and full.data.decode().startswith(text.strip()[:100])


def test_quoted_text_and_signature_are_marked_but_kept():
    body = (
        "Thanks, that fixed it.\n\n-- \nAnn Customer\nACME\n\n"
        "On Mon, 2 Jun 2025 at 10:00, Support <support@example.org> wrote:\n"
        "> Please restart the printer.\n> Regards\n"
    )
    message = parse_mail(make_mail(body=body)).message
    meta = message.meta
    assert message.body_text == body  # nothing is cut away
    assert body[meta["quote_start"] :].startswith("On Mon, 2 Jun 2025")
    assert body[meta["signature_start"] :].startswith("-- \nAnn Customer")


def test_inline_quotes_between_answers_are_marked_as_ranges():
    body = "> first question?\nanswer one\n> second question?\nanswer two\n"
    meta = parse_mail(make_mail(body=body)).message.meta
    assert "quote_start" not in meta
    assert [body[a:b] for a, b in meta["quoted_ranges"]] == [
        "> first question?\n",
        "> second question?\n",
    ]


def test_an_outlook_style_quote_without_markers_is_found():
    body = (
        "Yes please.\n\n________________________________\nFrom: Support\n"
        "Sent: Monday\nTo: Ann\nSubject: Your request\n\nShall we replace it?\n"
    )
    meta = parse_mail(make_mail(body=body)).message.meta
    assert body[meta["quote_start"] :].startswith("______")


def test_a_delivery_report_exposes_the_original_message_id():
    raw = fixture_mail("bounce-dsn.eml")
    dsn = parse_mail(raw).message.meta["dsn"]
    assert dsn["original_message_id"] == "<sent-1@support.example.org>"
    assert dsn["recipients"][0]["action"] == "failed"
    assert dsn["recipients"][0]["status"] == "5.1.1"
