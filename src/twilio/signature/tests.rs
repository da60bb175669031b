//! Signature tests: Twilio's documented examples, every vector produced by Twilio's official
//! Python library (`../testdata/signature_vectors.json`), and the public-URL rebuilding rules.

use serde::Deserialize;

use super::*;

#[derive(Deserialize)]
struct Vectors {
    library: String,
    compute: Vec<Vector>,
    validate: Vec<Vector>,
}

#[derive(Deserialize)]
struct Vector {
    name: String,
    auth_token: String,
    url: String,
    params: Vec<(String, String)>,
    signature: String,
    #[serde(default)]
    valid: Option<bool>,
}

fn vectors() -> Vectors {
    serde_json::from_str(include_str!("../testdata/signature_vectors.json"))
        .expect("vector file parses")
}

const DOCS_URL: &str = "https://mycompany.com/myapp.php?foo=1&bar=2";

/// The worked example of twilio.com/docs/usage/security#validating-requests: a `<Gather>` POST
/// to `DOCS_URL`, Auth Token `12345`. The URL comes from the stored twilio.com page; its params
/// and signature are as quoted from that page (gist ryanwinchester/ab49855e…), because the
/// stored copy of the page is cut off before them. The library vectors cover the same case.
#[test]
fn twilio_security_docs_worked_example() {
    let params = [
        ("CallSid", "CA1234567890ABCDE"),
        ("Caller", "+12349013030"),
        ("Digits", "1234"),
        ("From", "+12349013030"),
        ("To", "+18005551212"),
    ];
    let validator = RequestValidator::new("12345");
    assert_eq!(
        validator.compute(DOCS_URL, &params),
        "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
    );
}

/// The helper libraries' documented example (twilio-php `docs/usage/validation.rst`, twilio-python
/// `tests/unit/test_request_validator.py`), including its port expectations.
#[test]
fn helper_library_docs_example_and_its_port_variants() {
    let params = [
        ("CallSid", "CA1234567890ABCDE"),
        ("Digits", "1234"),
        ("From", "+14158675309"),
        ("To", "+18005551212"),
        ("Caller", "+14158675309"),
    ];
    let v = RequestValidator::new("12345");
    assert_eq!(v.compute(DOCS_URL, &params), "RSOYDt4T1cUTdK1PDd93/VVr8B8=");
    let https_1234 = DOCS_URL.replace(".com", ".com:1234");
    let http = DOCS_URL.replace("https", "http");
    let http_1234 = https_1234.replace("https", "http");
    let cases = [
        (DOCS_URL, "RSOYDt4T1cUTdK1PDd93/VVr8B8="),
        (https_1234.as_str(), "RSOYDt4T1cUTdK1PDd93/VVr8B8="), // port removed
        (http_1234.as_str(), "Zmvh+3yNM1Phv2jhDCwEM3q5ebU="),  // signed with :1234 kept
        (DOCS_URL, "kvajT1Ptam85bY51eRf/AJRuM3w="),            // signed with :443 added
        (http.as_str(), "0ZXoZLH/DfblKGATFgpif+LLRf4="),       // signed with :80 added
    ];
    for (url, signature) in cases {
        assert_eq!(
            v.verify(url, &params, Some(signature)),
            Ok(()),
            "{url} {signature}"
        );
    }
}

#[test]
fn every_official_library_compute_vector_matches() {
    let vectors = vectors();
    assert!(
        vectors.library.starts_with("twilio "),
        "{}",
        vectors.library
    );
    assert!(vectors.compute.len() >= 10);
    for v in &vectors.compute {
        let validator = RequestValidator::new(&v.auth_token);
        assert_eq!(
            validator.compute(&v.url, &v.params),
            v.signature,
            "compute {}",
            v.name
        );
        assert_eq!(
            validator.verify(&v.url, &v.params, Some(&v.signature)),
            Ok(()),
            "verify {}",
            v.name
        );
    }
}

#[test]
fn every_official_library_validate_vector_agrees() {
    for v in vectors().validate {
        let validator = RequestValidator::new(&v.auth_token);
        let expected = v
            .valid
            .expect("validate vectors say whether they are valid");
        assert_eq!(
            validator
                .verify(&v.url, &v.params, Some(&v.signature))
                .is_ok(),
            expected,
            "{}",
            v.name
        );
    }
}

#[test]
fn tampering_with_any_input_fails_every_vector() {
    for v in vectors().compute {
        let validator = RequestValidator::new(&v.auth_token);
        let mismatch = Err(SignatureError::Mismatch { url: v.url.clone() });
        let mut signature = v.signature.clone().into_bytes();
        signature[0] = if signature[0] == b'A' { b'B' } else { b'A' };
        let signature = String::from_utf8(signature).unwrap();
        assert_eq!(
            validator.verify(&v.url, &v.params, Some(&signature)),
            mismatch,
            "signature {}",
            v.name
        );

        let mut params = v.params.clone();
        params.push(("Injected".into(), "1".into()));
        assert_eq!(
            validator.verify(&v.url, &params, Some(&v.signature)),
            mismatch,
            "params {}",
            v.name
        );

        let other_token = RequestValidator::new(&format!("{}x", v.auth_token));
        assert_eq!(
            other_token.verify(&v.url, &v.params, Some(&v.signature)),
            mismatch,
            "token {}",
            v.name
        );

        let url = format!("{}x", v.url);
        let result = validator.verify(&url, &v.params, Some(&v.signature));
        assert_eq!(
            result,
            Err(SignatureError::Mismatch { url }),
            "url {}",
            v.name
        );
    }
}

#[test]
fn missing_or_empty_signature_is_rejected() {
    let v = RequestValidator::new("12345");
    assert_eq!(
        v.verify_websocket("wss://h/s", None),
        Err(SignatureError::Missing)
    );
    assert_eq!(
        v.verify_websocket("wss://h/s", Some("")),
        Err(SignatureError::Missing)
    );
}

#[test]
fn websocket_handshake_is_signed_over_the_wss_url() {
    let v = RequestValidator::new("12345");
    let url = "wss://voice.example.com/twilio/stream/eyJ0b2tlbiI6MX0";
    let signature = v.compute::<&str, &str>(url, &[]);
    assert_eq!(
        signature, "GtCWcE2ihdgVjgTjNHNDR3/bdw0=",
        "same as the library's no-params vector"
    );
    assert_eq!(v.verify_websocket(url, Some(&signature)), Ok(()));
    assert_eq!(
        v.verify_websocket(
            "wss://voice.example.com:443/twilio/stream/eyJ0b2tlbiI6MX0",
            Some(&signature)
        ),
        Ok(())
    );
    let https = url.replacen("wss", "https", 1);
    assert!(
        v.verify_websocket(&https, Some(&signature)).is_err(),
        "https is not wss (twilio-aspnet#162)"
    );
}

#[test]
fn param_order_does_not_matter() {
    let v = RequestValidator::new("12345");
    let forward = [("A", "1"), ("B", "2"), ("C", "3")];
    let backward = [("C", "3"), ("B", "2"), ("A", "1")];
    assert_eq!(
        v.compute("https://h/", &forward),
        v.compute("https://h/", &backward)
    );
}

#[test]
fn debug_does_not_print_the_token() {
    let shown = format!("{:?}", RequestValidator::new("super-secret-token"));
    assert!(!shown.contains("super-secret-token"), "{shown}");
}

#[test]
fn port_forms_handle_userinfo_ipv6_and_odd_urls() {
    assert_eq!(
        other_port_form("https://u:p@h.com/x").as_deref(),
        Some("https://u:p@h.com:443/x")
    );
    assert_eq!(
        other_port_form("https://u:p@h.com:8443/x").as_deref(),
        Some("https://u:p@h.com/x")
    );
    assert_eq!(
        other_port_form("http://[::1]/x?y").as_deref(),
        Some("http://[::1]:80/x?y")
    );
    assert_eq!(
        other_port_form("http://[::1]:3000?y").as_deref(),
        Some("http://[::1]?y")
    );
    assert_eq!(other_port_form("ws://h"), Some("ws://h:80".to_owned()));
    assert_eq!(other_port_form("ftp://h/x"), None);
    assert_eq!(other_port_form("not a url"), None);
    assert_eq!(other_port_form("https://h:abc/x"), None);
}

mod public_urls {
    use super::*;

    const NO_HEADERS: ForwardedHeaders<'static> = ForwardedHeaders {
        forwarded_proto: None,
        forwarded_host: None,
        host: None,
    };

    #[test]
    fn configured_base_wins_over_headers() {
        let headers = ForwardedHeaders {
            forwarded_proto: Some("http"),
            forwarded_host: Some("evil.example"),
            host: Some("10.0.0.5:3000"),
        };
        let url = public_url(
            Some("https://voice.example.com/"),
            &headers,
            "/twilio/voice?x=1",
            UrlKind::Http,
        );
        assert_eq!(
            url.as_deref(),
            Ok("https://voice.example.com/twilio/voice?x=1")
        );
    }

    #[test]
    fn base_with_path_prefix_is_kept() {
        let url = public_url(
            Some("https://example.com/switchboard"),
            &NO_HEADERS,
            "/twilio/stream/t",
            UrlKind::WebSocket,
        );
        assert_eq!(
            url.as_deref(),
            Ok("wss://example.com/switchboard/twilio/stream/t")
        );
    }

    #[test]
    fn forwarded_https_becomes_wss_for_the_stream_upgrade() {
        let headers = ForwardedHeaders {
            forwarded_proto: Some("https"),
            forwarded_host: Some("voice.example.com"),
            host: Some("10.0.0.5:3000"),
        };
        assert_eq!(
            public_url(None, &headers, "/twilio/stream/t", UrlKind::WebSocket).as_deref(),
            Ok("wss://voice.example.com/twilio/stream/t")
        );
        assert_eq!(
            public_url(None, &headers, "/twilio/voice", UrlKind::Http).as_deref(),
            Ok("https://voice.example.com/twilio/voice")
        );
    }

    #[test]
    fn first_entry_of_a_proxy_chain_is_used() {
        let headers = ForwardedHeaders {
            forwarded_proto: Some("https, http"),
            forwarded_host: Some("voice.example.com, lb.internal"),
            host: None,
        };
        assert_eq!(
            public_url(None, &headers, "/v", UrlKind::Http).as_deref(),
            Ok("https://voice.example.com/v")
        );
    }

    #[test]
    fn host_header_and_http_are_the_fallbacks() {
        let headers = ForwardedHeaders {
            host: Some("localhost:3000"),
            ..NO_HEADERS
        };
        assert_eq!(
            public_url(None, &headers, "/twilio/stream/t", UrlKind::WebSocket).as_deref(),
            Ok("ws://localhost:3000/twilio/stream/t")
        );
        assert_eq!(
            public_url(None, &headers, "twilio/voice", UrlKind::Http).as_deref(),
            Ok("http://localhost:3000/twilio/voice")
        );
    }

    #[test]
    fn bad_inputs_are_typed_errors() {
        assert_eq!(
            public_url(None, &NO_HEADERS, "/v", UrlKind::Http),
            Err(PublicUrlError::MissingHost)
        );
        let spoofed = ForwardedHeaders {
            forwarded_host: Some("a.com/evil?"),
            ..NO_HEADERS
        };
        assert!(matches!(
            public_url(None, &spoofed, "/v", UrlKind::Http),
            Err(PublicUrlError::InvalidHost { .. })
        ));
        let gopher = ForwardedHeaders {
            forwarded_proto: Some("gopher"),
            host: Some("h"),
            ..NO_HEADERS
        };
        assert!(matches!(
            public_url(None, &gopher, "/v", UrlKind::Http),
            Err(PublicUrlError::UnsupportedScheme { .. })
        ));
        for base in [
            "voice.example.com",
            "https://",
            "https://h?x=1",
            "https://user@h",
        ] {
            assert!(
                matches!(
                    public_url(Some(base), &NO_HEADERS, "/v", UrlKind::Http),
                    Err(PublicUrlError::InvalidBaseUrl { .. })
                ),
                "{base}"
            );
        }
    }

    #[test]
    fn rebuilt_url_verifies_a_signature_made_for_the_public_url() {
        let v = RequestValidator::new("12345");
        let signed = v.compute::<&str, &str>("wss://voice.example.com/twilio/stream/tok", &[]);
        let headers = ForwardedHeaders {
            forwarded_proto: Some("https"),
            forwarded_host: Some("voice.example.com"),
            host: Some("127.0.0.1:3000"),
        };
        let url = public_url(None, &headers, "/twilio/stream/tok", UrlKind::WebSocket).unwrap();
        assert_eq!(v.verify_websocket(&url, Some(&signed)), Ok(()));
    }
}
