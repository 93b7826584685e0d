"""STARTTLS and AUTH cases for smtpcheck.py (run by TlsConformanceTests).

'tls' profile: an edge with a certificate and no credentials (cases.py's 'any' cases run there too).
'auth' profile: an edge with a certificate and rules.lookup_credentials {alice: 's3cret pass'},
AUTH only under TLS, so MAIL requires AUTH.
"""
import base64

HDR = "From: a@client.test\r\nTo: b@remote.test\r\nSubject: {M}\r\n\r\n"
NO_STARTTLS = r"\A(?![\s\S]*STARTTLS)"
PLAIN = base64.b64encode(b"\0alice\0s3cret pass").decode()
BAD = base64.b64encode(b"\0alice\0wrong").decode()


def b64(s):
    return base64.b64encode(s.encode()).decode()


TLS = [("expect", "220"), ("send", "EHLO client.test\r\n"), ("expect", "250", r"^250[- ]STARTTLS"),
       ("send", "STARTTLS\r\n"), ("expect", "220", r"^220 2\.0\.0"), ("starttls",),
       ("send", "EHLO client.test\r\n"), ("expect", "250", NO_STARTTLS)]

TX = [("send", "MAIL FROM:<a@client.test>\r\n"), ("expect", "250"),
      ("send", "RCPT TO:<b@remote.test>\r\n"), ("expect", "250"),
      ("send", "DATA\r\n"), ("expect", "354")]

CASES = [
    ("tls-ehlo-advertises-starttls", "tls", [("expect", "220"), ("send", "EHLO c.test\r\n"), ("expect", "250", r"^250[- ]STARTTLS")]),
    ("tls-helo-keeps-starttls", "tls", [("expect", "220"), ("send", "HELO c.test\r\n"), ("expect", "250"),
        ("send", "STARTTLS\r\n"), ("expect", "220"), ("starttls",), ("send", "NOOP\r\n"), ("expect", "250")]),
    ("tls-starttls-with-parameter", "tls", [("expect", "220"), ("send", "EHLO c.test\r\n"), ("expect", "250"),
        ("send", "STARTTLS now\r\n"), ("expect", "501")]),
    ("tls-starttls-before-ehlo", "tls", [("expect", "220"), ("send", "STARTTLS\r\n"), ("expect", "503")]),
    ("tls-starttls-twice", "tls", TLS + [("send", "STARTTLS\r\n"), ("expect", "503")]),
    ("tls-state-reset-needs-ehlo", "tls", [("expect", "220"), ("send", "EHLO c.test\r\n"), ("expect", "250"),
        ("send", "STARTTLS\r\n"), ("expect", "220"), ("starttls",),
        ("send", "MAIL FROM:<a@client.test>\r\n"), ("expect", "503")]),
    ("tls-pipelined-plaintext-discarded", "tls", [("expect", "220"), ("send", "EHLO c.test\r\n"), ("expect", "250"),
        ("send", "STARTTLS\r\nEHLO evil.test\r\nMAIL FROM:<evil@attacker.test>\r\n"), ("expect", "220"), ("starttls",),
        ("silent", 0.5), ("send", "RCPT TO:<b@remote.test>\r\n"), ("expect", "503")]),
    ("tls-deliver", "tls", TLS + TX + [("send", HDR + "over tls\r\n.\r\n"), ("expect", "250"),
        ("send", "QUIT\r\n"), ("expect", "221"), ("sink", {"count": 1, "body": r"over tls"})]),
    ("tls-handshake-garbage-closes", "tls", [("expect", "220"), ("send", "EHLO c.test\r\n"), ("expect", "250"),
        ("send", "STARTTLS\r\n"), ("expect", "220"), ("send", "this is not a TLS ClientHello\r\n" * 4), ("closed", 5), ("alive",)]),
    ("tls-auth-not-configured", "tls", TLS + [("send", "AUTH PLAIN %s\r\n" % PLAIN), ("expect", "502")]),

    ("auth-not-offered-before-tls", "auth", [("expect", "220"), ("send", "EHLO c.test\r\n"), ("expect", "250", r"\A(?![\s\S]*AUTH)")]),
    ("auth-before-tls-538", "auth", [("expect", "220"), ("send", "EHLO c.test\r\n"), ("expect", "250"),
        ("send", "AUTH PLAIN %s\r\n" % PLAIN), ("expect", "538", r"5\.7\.11")]),
    ("auth-offered-after-tls", "auth", TLS[:-1] + [("expect", "250", r"^250[- ]AUTH .*PLAIN")]),
    ("auth-mail-requires-auth", "auth", TLS + [("send", "MAIL FROM:<a@client.test>\r\n"), ("expect", "530", r"5\.7\.0")]),
    ("auth-plain-deliver", "auth", TLS + [("send", "AUTH PLAIN %s\r\n" % PLAIN), ("expect", "235", r"2\.7\.0")] + TX + [
        ("send", HDR + "authenticated\r\n.\r\n"), ("expect", "250"), ("sink", {"count": 1, "body": r"with ESMTPSA"})]),
    ("auth-plain-empty-challenge", "auth", TLS + [("send", "AUTH PLAIN\r\n"), ("expect", "334"),
        ("send", PLAIN + "\r\n"), ("expect", "235")]),
    ("auth-login", "auth", TLS + [("send", "AUTH LOGIN\r\n"), ("expect", "334", "VXNlcm5hbWU6"),
        ("send", b64("alice") + "\r\n"), ("expect", "334", "UGFzc3dvcmQ6"), ("send", b64("s3cret pass") + "\r\n"), ("expect", "235")]),
    ("auth-login-initial-response", "auth", TLS + [("send", "AUTH LOGIN %s\r\n" % b64("alice")), ("expect", "334", "UGFzc3dvcmQ6"),
        ("send", b64("s3cret pass") + "\r\n"), ("expect", "235")]),
    ("auth-bad-password", "auth", TLS + [("send", "AUTH PLAIN %s\r\n" % BAD), ("expect", "535", r"5\.7\.8")]),
    ("auth-cancel", "auth", TLS + [("send", "AUTH LOGIN\r\n"), ("expect", "334"), ("send", "*\r\n"), ("expect", "501"),
        ("send", "NOOP\r\n"), ("expect", "250")]),
    ("auth-bad-base64", "auth", TLS + [("send", "AUTH PLAIN @@@\r\n"), ("expect", "501")]),
    ("auth-unknown-mechanism", "auth", TLS + [("send", "AUTH XOAUTH9\r\n"), ("expect", "504")]),
    ("auth-twice", "auth", TLS + [("send", "AUTH PLAIN %s\r\n" % PLAIN), ("expect", "235"),
        ("send", "AUTH PLAIN %s\r\n" % PLAIN), ("expect", "503")]),
    ("auth-during-transaction", "auth", TLS + [("send", "AUTH PLAIN %s\r\n" % PLAIN), ("expect", "235"),
        ("send", "MAIL FROM:<a@client.test>\r\n"), ("expect", "250"), ("send", "AUTH LOGIN\r\n"), ("expect", "503")]),
]
