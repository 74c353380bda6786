//! The login and consent pages the user agent was shown on the way (RFC 9700 §4.12, §4.16).

use std::collections::BTreeMap;

use super::headers;
use crate::outcome::{Fault, Halt, Unmet};
use crate::scenario::model::HeaderMatch;
use crate::wire::Response;

fn shown(pages: &[Response], what: &str) -> Result<(), Halt> {
    if pages.is_empty() {
        return Err(Fault::precondition(format!(
            "no login or consent page was shown, so {what} could not be checked"
        ))
        .into());
    }
    Ok(())
}

/// Every page shown carries the expected headers. No page at all is a fault: there was nothing
/// to judge.
pub fn page_headers(
    expected: &BTreeMap<String, HeaderMatch>,
    pages: &[Response],
) -> Result<(), Halt> {
    shown(pages, "page headers")?;
    for page in pages {
        headers(expected, page).map_err(|u| Unmet::OnPage { unmet: Box::new(u) })?;
    }
    Ok(())
}

/// RFC 9700 §4.16: every page shown refuses framing, by `X-Frame-Options` (`DENY` or
/// `SAMEORIGIN`) or a CSP `frame-ancestors` directive.
pub fn pages_not_frameable(pages: &[Response]) -> Result<(), Halt> {
    shown(pages, "framing protection")?;
    for page in pages {
        let xfo = page.header("x-frame-options").is_some_and(|v| {
            ["deny", "sameorigin"].contains(&v.trim().to_ascii_lowercase().as_str())
        });
        let csp = page
            .header_all("content-security-policy")
            .any(|v| v.to_ascii_lowercase().contains("frame-ancestors"));
        if !xfo && !csp {
            return Err(Unmet::Frameable.into());
        }
    }
    Ok(())
}

/// RFC 9700 §4.12: no form POST was answered with one of the `forbidden` redirect statuses
/// (307 makes the browser re-post the credentials to the next hop).
pub fn no_reposting_redirect(post_redirects: &[u16], forbidden: &[u16]) -> Result<(), Unmet> {
    match post_redirects.iter().find(|s| forbidden.contains(s)) {
        Some(&status) => Err(Unmet::PostRedirect { status }),
        None => Ok(()),
    }
}

/// No page was shown: the request went straight back to the client (OpenID Connect Core
/// §3.1.2.1 `prompt=none`).
pub fn no_page(pages: &[Response]) -> Result<(), Unmet> {
    if pages.is_empty() {
        Ok(())
    } else {
        Err(Unmet::PageShown { pages: pages.len() })
    }
}

/// A consent page was shown (RFC 9700 §2.1.1 / RFC 8252 §8.6 for public clients).
pub fn consent_shown(pages: &[Response]) -> Result<(), Unmet> {
    if pages.is_empty() {
        Err(Unmet::NoConsent)
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::test_support::response;

    #[test]
    fn page_headers_on_every_page() {
        let want = BTreeMap::from([(
            "cache-control".to_owned(),
            HeaderMatch::Contains("no-store".into()),
        )]);
        let good = response(200, &[("cache-control", "no-store")], "");
        let bad = response(200, &[], "");
        assert_eq!(page_headers(&want, std::slice::from_ref(&good)), Ok(()));
        let e = page_headers(&want, &[good, bad]).expect_err("unmet");
        assert_eq!(
            e.to_string(),
            "on a login/consent page: expected header cache-control to contain \"no-store\", it is absent"
        );
        assert!(matches!(page_headers(&want, &[]), Err(Halt::Fault { .. })));
    }

    #[test]
    fn framing() {
        let xfo = response(200, &[("x-frame-options", " DENY ")], "");
        let csp = response(
            200,
            &[("content-security-policy", "frame-ancestors 'none'")],
            "",
        );
        let allow = response(200, &[("x-frame-options", "ALLOW-FROM https://x")], "");
        assert_eq!(pages_not_frameable(&[xfo, csp.clone()]), Ok(()));
        assert_eq!(
            pages_not_frameable(&[csp, allow]),
            Err(Unmet::Frameable.into())
        );
        assert!(matches!(pages_not_frameable(&[]), Err(Halt::Fault { .. })));
    }

    #[test]
    fn reposting_redirects() {
        assert_eq!(no_reposting_redirect(&[302, 303], &[307, 308]), Ok(()));
        assert_eq!(
            no_reposting_redirect(&[303, 307], &[307, 308]).map_err(|e| e.to_string()),
            Err(
                "a form POST was answered with a 307 redirect (RFC 9700 §4.12: 303, never 307)"
                    .into()
            )
        );
    }

    #[test]
    fn consent() {
        assert_eq!(consent_shown(&[response(200, &[], "")]), Ok(()));
        assert_eq!(consent_shown(&[]), Err(Unmet::NoConsent));
        assert_eq!(no_page(&[]), Ok(()));
        assert_eq!(
            no_page(&[response(200, &[], "")]),
            Err(Unmet::PageShown { pages: 1 })
        );
    }
}
