//! The published SigV4 test vectors (`sigv4-test-suite/`, from aws-c-auth): every signed request,
//! header and presigned forms, verifies with its case's credentials, and stops verifying when
//! any signed part of it changes.

use berth_api::sigv4::{self, Fault, Request};
use std::path::{Path, PathBuf};

struct Case {
    name: String,
    secret: String,
    normalize: bool,
    now: i64,
}

/// A request file: request line, headers (with folded continuation lines), blank line, body.
struct Parsed {
    method: String,
    path: String,
    query: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Parsed {
    fn read(text: &str) -> Self {
        let (head, body) = text.split_once("\n\n").unwrap_or((text, ""));
        let body = if body.chars().all(|c| c == '\n') {
            ""
        } else {
            body
        };
        let mut lines = head.lines();
        let request_line = lines.next().expect("request line");
        let (method, rest) = request_line.split_once(' ').expect("method");
        let target = rest.strip_suffix(" HTTP/1.1").expect("HTTP/1.1");
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        let mut headers: Vec<(String, String)> = vec![];
        for line in lines {
            if line.starts_with(' ') || line.starts_with('\t') {
                let last = headers
                    .last_mut()
                    .expect("a header before its continuation");
                last.1.push(' ');
                last.1.push_str(line.trim());
            } else {
                let (n, v) = line.split_once(':').expect("name:value");
                headers.push((n.to_string(), v.to_string()));
            }
        }
        Self {
            method: method.into(),
            path: path.into(),
            query: query.into(),
            headers,
            body: body.as_bytes().to_vec(),
        }
    }

    fn read_clone(other: &Parsed) -> Self {
        Self {
            method: other.method.clone(),
            path: other.path.clone(),
            query: other.query.clone(),
            headers: other.headers.clone(),
            body: other.body.clone(),
        }
    }

    fn request(&self) -> Request<'_> {
        Request {
            method: &self.method,
            path: &self.path,
            query: &self.query,
            headers: &self.headers,
            body: &self.body,
        }
    }
}

fn suite() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sigv4-test-suite")
}

fn cases() -> Vec<Case> {
    let mut out = vec![];
    for entry in std::fs::read_dir(suite()).expect("the suite is in the repository") {
        let dir = entry.expect("entry").path();
        if !dir.is_dir() {
            continue;
        }
        let context: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(dir.join("context.json")).expect("context.json"),
        )
        .expect("json");
        let stamp = context["timestamp"]
            .as_str()
            .expect("timestamp")
            .replace(['-', ':'], "");
        out.push(Case {
            name: dir
                .file_name()
                .expect("name")
                .to_string_lossy()
                .into_owned(),
            secret: context["credentials"]["secret_access_key"]
                .as_str()
                .expect("secret")
                .into(),
            normalize: context["normalize"].as_bool().unwrap_or(true),
            now: sigv4::parse_amz_date(&stamp).expect("timestamp") + 30,
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

fn verify(case: &Case, p: &Parsed) -> Result<sigv4::Signer, Fault> {
    let secret = case.secret.clone();
    sigv4::verify(
        &p.request(),
        |key| (key == "AKIDEXAMPLE").then_some(secret),
        case.now,
        case.normalize,
    )
}

fn forms(case: &Case) -> Vec<(String, Parsed)> {
    ["header", "query"]
        .into_iter()
        .map(|form| {
            let file = suite()
                .join(&case.name)
                .join(format!("{form}-signed-request.txt"));
            let text = std::fs::read_to_string(&file).expect("signed request");
            (format!("{}/{form}", case.name), Parsed::read(&text))
        })
        .collect()
}

#[test]
fn every_signed_request_verifies() {
    let cases = cases();
    assert!(cases.len() >= 30, "the whole suite is there");
    for case in &cases {
        for (name, parsed) in forms(case) {
            let signer = verify(case, &parsed).unwrap_or_else(|f| panic!("{name}: {f:?}"));
            assert_eq!(signer.access_key, "AKIDEXAMPLE", "{name}");
            assert_eq!(
                (signer.region.as_str(), signer.service.as_str()),
                ("us-east-1", "service")
            );
        }
    }
}

#[test]
fn any_change_to_a_signed_part_is_refused() {
    for case in &cases() {
        for (name, parsed) in forms(case) {
            let mut changed: Vec<(&str, Parsed)> = vec![];
            let mut p = Parsed::read_clone(&parsed);
            p.method = if p.method == "GET" {
                "POST".into()
            } else {
                "GET".into()
            };
            changed.push(("method", p));
            let mut p = Parsed::read_clone(&parsed);
            p.path.push('x');
            changed.push(("path", p));
            let mut p = Parsed::read_clone(&parsed);
            p.query = if p.query.is_empty() {
                "extra=1".into()
            } else {
                format!("{}&extra=1", p.query)
            };
            changed.push(("query", p));
            let mut p = Parsed::read_clone(&parsed);
            p.body.push(b'!');
            changed.push(("body", p));
            let mut p = Parsed::read_clone(&parsed);
            if let Some(h) = p
                .headers
                .iter_mut()
                .find(|(n, _)| n.eq_ignore_ascii_case("host"))
            {
                h.1.push_str(".evil");
            }
            changed.push(("host header", p));
            for (what, p) in changed {
                assert!(
                    verify(case, &p).is_err(),
                    "{name}: a changed {what} still verified"
                );
            }
            // Flipping one character of the signature itself.
            let mut p = Parsed::read_clone(&parsed);
            let flip = |s: &mut String| {
                let at = s.find("Signature=").expect("signature") + "Signature=".len();
                let c = if s[at..].starts_with('0') { "1" } else { "0" };
                s.replace_range(at..at + 1, c);
            };
            match p
                .headers
                .iter_mut()
                .find(|(n, _)| n.eq_ignore_ascii_case("authorization"))
            {
                Some(h) => flip(&mut h.1),
                None => flip(&mut p.query),
            }
            assert_eq!(
                verify(case, &p),
                Err(Fault::Mismatch),
                "{name}: flipped signature"
            );
        }
    }
}

#[test]
fn time_limits_and_unknown_keys_have_their_own_faults() {
    let case = cases()
        .into_iter()
        .find(|c| c.name == "get-vanilla")
        .expect("get-vanilla");
    let (_, header) = forms(&case).remove(0);
    let signed_at = case.now;
    let late = Case {
        now: signed_at + 16 * 60,
        ..case
    };
    assert!(matches!(verify(&late, &header), Err(Fault::Expired(_))));
    let early = Case {
        now: signed_at - 16 * 60,
        ..late
    };
    assert!(matches!(verify(&early, &header), Err(Fault::Expired(_))));
    let unknown = sigv4::verify(&header.request(), |_| None, signed_at, true);
    assert_eq!(unknown, Err(Fault::UnknownKey("AKIDEXAMPLE".into())));
    let no_signature = Parsed::read("GET / HTTP/1.1\nHost:example.amazonaws.com\n\n");
    assert_eq!(
        sigv4::verify(&no_signature.request(), |_| None, 0, true),
        Err(Fault::Missing)
    );
}
