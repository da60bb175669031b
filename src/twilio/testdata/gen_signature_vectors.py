#!/usr/bin/env python3
"""Writes signature_vectors.json: X-Twilio-Signature test vectors from Twilio's OFFICIAL helper
library (`twilio` on PyPI, `twilio.request_validator.RequestValidator`).

The Rust tests in src/twilio/signature/tests.rs load the JSON and check every vector, so our
implementation is held to Twilio's own, not to our reading of the docs.

Regenerate (from the repository root):

    python3 -m venv /tmp/twvenv && /tmp/twvenv/bin/pip install twilio
    /tmp/twvenv/bin/python src/twilio/testdata/gen_signature_vectors.py

Output is deterministic (no randomness, sorted keys), so a diff shows exactly what changed.
"""

import json
import pathlib

import twilio
from multidict import MultiDict  # installed with twilio (via aiohttp); supports repeated keys
from twilio.request_validator import RequestValidator

OUT = pathlib.Path(__file__).with_name("signature_vectors.json")
TOKEN = "12345"

# (name, auth token, URL exactly as Twilio requested it, POST params as (name, value) pairs)
COMPUTE = [
    (
        "helper_library_docs_example",
        TOKEN,
        "https://mycompany.com/myapp.php?foo=1&bar=2",
        [
            ("CallSid", "CA1234567890ABCDE"),
            ("Caller", "+14158675309"),
            ("Digits", "1234"),
            ("From", "+14158675309"),
            ("To", "+18005551212"),
        ],
    ),
    ("no_params", TOKEN, "https://voice.example.com/twilio/voice", []),
    (
        "query_string_kept_verbatim",
        TOKEN,
        "https://voice.example.com/twilio/voice?token=a%20b&plus=1+2&empty=&utf=%C3%A9",
        [("CallSid", "CA00000000000000000000000000000001")],
    ),
    ("https_explicit_port", TOKEN, "https://voice.example.com:8443/twilio/voice", [("CallSid", "CA1")]),
    ("http_explicit_port", TOKEN, "http://localhost:3000/twilio/voice", [("CallSid", "CA1")]),
    (
        "unicode_params",
        TOKEN,
        "https://voice.example.com/twilio/sms",
        [("Body", "héllo wörld 😀 日本語"), ("FromCity", "SÃO PAULO"), ("Ünïcode", "ok")],
    ),
    (
        "special_characters_in_params",
        TOKEN,
        "https://voice.example.com/twilio/voice",
        [
            ("SpeechResult", "Tom & Jerry's \"best\" <b> = 100% + tax"),
            ("Multi", "line one\nline two\r\n\ttabbed"),
            ("Empty", ""),
            ("Spaces", "  padded  "),
            ("Equals=Key", "a=b&c=d"),
        ],
    ),
    (
        "repeated_keys_sorted_by_value",
        TOKEN,
        "https://mycompany.com/myapp.php?foo=1&bar=2",
        [("Sid", "CA123"), ("SidAccount", "AC123"), ("Digits", "5678"), ("Digits", "1234")],
    ),
    (
        "identical_pairs_count_once",
        TOKEN,
        "https://voice.example.com/twilio/voice",
        [("Digits", "1"), ("Digits", "1"), ("Digits", "0")],
    ),
    (
        "sort_is_by_code_point",
        TOKEN,
        "https://voice.example.com/twilio/voice",
        [("b", "1"), ("B", "2"), ("a", "3"), ("A", "4"), ("é", "5"), ("z", "6"), ("_", "7"), ("Z9", "8")],
    ),
    (
        "realistic_voice_webhook",
        "0123456789abcdef0123456789abcdef",
        "https://voice.example.com/twilio/voice",
        [
            ("AccountSid", "AC0123456789abcdef0123456789abcdef"),
            ("ApiVersion", "2010-04-01"),
            ("CallSid", "CA0123456789abcdef0123456789abcdef"),
            ("CallStatus", "ringing"),
            ("Called", "+15557654321"),
            ("Caller", "+15551234567"),
            ("CallerCity", "SAN FRANCISCO"),
            ("Direction", "inbound"),
            ("From", "+15551234567"),
            ("To", "+15557654321"),
        ],
    ),
    (
        "long_auth_token_is_hashed_as_hmac_key",
        "k" * 100,
        "https://voice.example.com/twilio/voice",
        [("CallSid", "CA1")],
    ),
    ("unicode_url", TOKEN, "https://voice.example.com/ñandú?q=ü", [("x", "y")]),
    ("websocket_handshake_no_params", TOKEN, "wss://voice.example.com/twilio/stream/eyJ0b2tlbiI6MX0", []),
    ("websocket_handshake_other_token", "0123456789abcdef0123456789abcdef", "wss://voice.example.com/twilio/stream/abc", []),
]

# validate() accepts the URL with or without the scheme's default port. Each case: the URL the
# request arrived at, and the URL the signature was computed over. wss is left out on purpose:
# the Python library assumes port 80 for every non-https scheme, while we use 443 for wss.
VALIDATE = [
    ("port_removed_on_https", "https://mycompany.com:1234/myapp.php?foo=1&bar=2", "https://mycompany.com/myapp.php?foo=1&bar=2"),
    ("port_removed_on_http", "http://mycompany.com:1234/myapp.php?foo=1&bar=2", "http://mycompany.com/myapp.php?foo=1&bar=2"),
    ("default_port_added_on_https", "https://mycompany.com/myapp.php?foo=1&bar=2", "https://mycompany.com:443/myapp.php?foo=1&bar=2"),
    ("default_port_added_on_http", "http://mycompany.com/myapp.php?foo=1&bar=2", "http://mycompany.com:80/myapp.php?foo=1&bar=2"),
    ("other_port_is_not_accepted", "https://mycompany.com/myapp.php?foo=1&bar=2", "https://mycompany.com:8443/myapp.php?foo=1&bar=2"),
    ("scheme_matters", "https://mycompany.com/myapp.php?foo=1&bar=2", "http://mycompany.com/myapp.php?foo=1&bar=2"),
    ("query_matters", "https://mycompany.com/myapp.php?foo=1&bar=2", "https://mycompany.com/myapp.php?foo=1&bar=3"),
]
VALIDATE_PARAMS = [("CallSid", "CA1234567890ABCDE"), ("Digits", "1234")]


def multidict(pairs):
    return MultiDict(pairs)


def main():
    compute = []
    for name, token, url, params in COMPUTE:
        validator = RequestValidator(token)
        signature = validator.compute_signature(url, multidict(params))
        # The library's own check of what it just computed (it also tries port variants).
        assert validator.validate(url, multidict(params), signature), name
        compute.append({"name": name, "auth_token": token, "url": url, "params": params, "signature": signature})

    validate = []
    validator = RequestValidator(TOKEN)
    for name, request_url, signed_url in VALIDATE:
        signature = validator.compute_signature(signed_url, multidict(VALIDATE_PARAMS))
        valid = validator.validate(request_url, multidict(VALIDATE_PARAMS), signature)
        validate.append(
            {
                "name": name,
                "auth_token": TOKEN,
                "url": request_url,
                "params": VALIDATE_PARAMS,
                "signature": signature,
                "valid": valid,
            }
        )

    doc = {
        "generator": "src/twilio/testdata/gen_signature_vectors.py",
        "library": f"twilio {twilio.__version__} (PyPI), twilio.request_validator.RequestValidator",
        "compute": compute,
        "validate": validate,
    }
    OUT.write_text(json.dumps(doc, indent=2, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {len(compute)} compute and {len(validate)} validate vectors to {OUT}")


if __name__ == "__main__":
    main()
