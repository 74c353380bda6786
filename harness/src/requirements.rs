//! The requirement catalogue scenarios cite: `REQ-n` for requirements of the specifications and
//! `BUG-n` for real-world bugs, numbered as in the project's `REQUIREMENTS.md`. The loader
//! rejects an id that is not here, and every verdict carries the text of what it checks.

/// A requirement of RFC 6749, RFC 7636, RFC 8414, RFC 9207, RFC 9700 or OAuth 2.1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Requirement {
    /// The number n of `REQ-n`.
    pub number: u16,
    /// The specification and section, e.g. "RFC 7636 §4.6".
    pub source: &'static str,
    /// What it requires, in brief.
    pub summary: &'static str,
}

/// A catalogued real-world bug that a scenario can re-create.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bug {
    /// The number n of `BUG-n`.
    pub number: u16,
    /// CVE, advisory or issue.
    pub ident: &'static str,
    /// The product and versions.
    pub product: &'static str,
    /// What went wrong.
    pub summary: &'static str,
}

const fn req(number: u16, source: &'static str, summary: &'static str) -> Requirement {
    Requirement {
        number,
        source,
        summary,
    }
}

const fn bug(
    number: u16,
    ident: &'static str,
    product: &'static str,
    summary: &'static str,
) -> Bug {
    Bug {
        number,
        ident,
        product,
        summary,
    }
}

/// Every requirement, in order.
pub const REQUIREMENTS: &[Requirement] = &[
    req(
        1,
        "RFC 8414 §2 code_challenge_methods_supported",
        "OPTIONAL; \"If omitted, the authorization server does not support PKCE.\" RFC 9700 §2.1.1: the AS MUST provide a way to detect PKCE support, and publishing code_challenge_methods_supported is RECOMMENDED.",
    ),
    req(
        2,
        "RFC 8414 §2 issuer",
        "REQUIRED, https scheme, no query or fragment. §3.3: the returned issuer MUST be identical to the issuer used to build the well-known URL.",
    ),
    req(
        3,
        "RFC 8414 §2 response_types_supported",
        "REQUIRED, must contain \"code\". grant_types_supported is OPTIONAL (default [\"authorization_code\",\"implicit\"]). token_endpoint_auth_methods_supported is OPTIONAL (default client_secret_basic). Use these…",
    ),
    req(
        4,
        "RFC 9207 §3",
        "authorization_response_iss_parameter_supported (boolean, default false). If true, items 28–29 become MUST.",
    ),
    req(
        5,
        "RFC 9700 §2.6",
        "publishing RFC 8414 metadata is RECOMMENDED.",
    ),
    req(
        6,
        "RFC 6749 §3.1",
        "TLS MUST be required at the authorization endpoint.",
    ),
    req(
        7,
        "RFC 6749 §3.1",
        "the AS MUST support GET and MAY support POST.",
    ),
    req(
        8,
        "RFC 6749 §3.1",
        "(OAuth 2.1 same): MUST ignore unrecognized request parameters.",
    ),
    req(
        9,
        "RFC 6749 §3.1",
        "parameters sent without a value MUST be treated as omitted.",
    ),
    req(
        10,
        "RFC 6749 §3.1",
        "request and response parameters MUST NOT be included more than once.",
    ),
    req(
        11,
        "RFC 6749 §3.1.1",
        "missing or unknown response_type → MUST return an error response (§4.1.2.1).",
    ),
    req(
        12,
        "RFC 6749 §4.1.2 / §4.1.2.1",
        "state is REQUIRED in the response if it was present in the request, with \"the exact value received\". Also required in error responses.",
    ),
    req(
        13,
        "RFC 9700 §2.6",
        "CORS MUST NOT be supported at the authorization endpoint.",
    ),
    req(
        14,
        "RFC 9700 §4.12",
        "an AS that redirects a request which may carry user credentials MUST NOT use 307, and SHOULD use 303.",
    ),
    req(
        15,
        "RFC 9700 §4.16",
        "the AS MUST prevent clickjacking and SHOULD use CSP level 2 (frame-ancestors). RFC 6749 §10.13 suggests X-Frame-Options.",
    ),
    req(
        16,
        "RFC 9700 §4.2.4",
        "pages at the authorization endpoint SHOULD NOT include third-party resources. A Referrer-Policy (e.g. no-referrer) is suggested.",
    ),
    req(
        17,
        "RFC 9700 §4.1.3",
        "servers MAY append a fragment such as #_ to Location URLs to prevent fragment reattachment.",
    ),
    req(
        18,
        "RFC 7636 §4.4.1",
        "if the server requires PKCE and code_challenge is missing → MUST return error=invalid_request. OAuth 2.1 \"Authorization Error Response\": the AS MUST reject requests without code_challenge from…",
    ),
    req(
        19,
        "RFC 7636 §4.3",
        "code_challenge_method is OPTIONAL and defaults to plain.",
    ),
    req(
        20,
        "RFC 7636 §4.4.1",
        "(OAuth 2.1 same): server does not support the requested transformation → MUST return error=invalid_request, and error_description SHOULD explain (e.g. \"transform algorithm not supported\").",
    ),
    req(
        21,
        "RFC 7636 §4.2",
        "(S256 MTI) and RFC 9700 §2.1.1 (\"Authorization servers MUST support PKCE\").",
    ),
    req(
        22,
        "RFC 7636 §4.2 / OAuth 2.1 \"Authorization Request\" ABNF",
        "code-challenge = 43*128unreserved. The AS \"validates the request to ensure that all required parameters are present and valid\".",
    ),
    req(
        23,
        "RFC 9700 §2.1.1",
        "\"Authorization servers are encouraged to make a reasonable effort at detecting and preventing the use of constant PKCE challenge … values.\" Expected: reusing the same code_challenge across flows → INFO/WARN if…",
    ),
    req(
        24,
        "RFC 7636 §4.4",
        "(OAuth 2.1 \"Authorization Response\"): the server MUST associate code_challenge and code_challenge_method with the issued code. OAuth 2.1 adds that the server MUST NOT include code_challenge in a…",
    ),
    req(
        25,
        "RFC 9700 §2.1 and §4.1.3; OAuth 2.1 \"Registration Requirements\" / \"Authorization Request\"",
        "MUST use exact string matching (RFC 3986 §6.2.1 simple string comparison), except the port of loopback redirect URIs for native apps. RFC 6749 §3.1.2.2 only said SHOULD require the complete URI, so this is a…",
    ),
    req(
        26,
        "RFC 6749 §3.1.2.4 and §4.1.2.1",
        "(OAuth 2.1 same): missing, invalid or mismatching redirect URI, or missing or invalid client_id → the AS SHOULD inform the resource owner and MUST NOT automatically redirect to the invalid URI.",
    ),
    req(
        27,
        "RFC 6749 §3.1.2.3; OAuth 2.1 \"Multiple Redirect URIs\"",
        "if several redirect URIs are registered, redirect_uri is REQUIRED.",
    ),
    req(
        28,
        "RFC 9207 §2",
        "an AS supporting RFC 9207 MUST include iss in authorization responses, including error responses. iss is an https URL with no query or fragment, equal to the metadata issuer (§2.3).",
    ),
    req(
        29,
        "RFC 9207 §2 and §3",
        "if iss is present in any authorization response, it should be present in all of them.",
    ),
    req(
        30,
        "OAuth 2.1 \"Loopback Interface Redirection\" (RFC 8252 §7.3)",
        "the AS MUST allow any port for loopback IP redirect URIs (http://127.0.0.1:{port}/…, http://[::1]:{port}/…).",
    ),
    req(
        31,
        "RFC 9700 §2.6",
        "the AS MUST NOT allow http redirect URIs, except loopback for native clients.",
    ),
    req(
        32,
        "RFC 6749 §3.1.2",
        "the redirect URI MUST NOT include a fragment.",
    ),
    req(
        33,
        "RFC 9700 §4.11.2",
        "the AS MUST authenticate the user before redirecting, and SHOULD only auto-redirect to trusted URIs. For an invalid scope, prompt=none or a declined consent with an attacker-registered client, the AS…",
    ),
    req(
        34,
        "RFC 6749 §4.1.2",
        "(OAuth 2.1 same): the code MUST expire shortly after issue. A maximum lifetime of 10 minutes is RECOMMENDED. FAPI 2.0: 60 s (OIDF …expired-auth-code waits 62 s).",
    ),
    req(
        35,
        "RFC 6749 §10.10",
        "the probability of guessing a code MUST be ≤ 2^-128 and SHOULD be ≤ 2^-160.",
    ),
    req(
        36,
        "RFC 6749 §4.1.2",
        "\"The authorization code is bound to the client identifier and redirection URI.\" OAuth 2.1 adds \"… client identifier, code challenge and redirect URI\". Tested through items 44–46 and 48–52.",
    ),
    req(37, "RFC 6749 §3.2", "TLS MUST be required."),
    req(
        38,
        "RFC 6749 §3.2",
        "(OAuth 2.1): \"The client MUST use the HTTP POST method\".",
    ),
    req(39, "RFC 6749 §3.2", "MUST ignore unrecognized parameters."),
    req(
        40,
        "RFC 6749 §3.2",
        "parameters MUST NOT be repeated. OAuth 2.1 \"Token Endpoint Error Response\" lists \"repeats a parameter\" under invalid_request.",
    ),
    req(
        41,
        "RFC 6749 §3.2",
        "parameters without a value are treated as omitted.",
    ),
    req(
        42,
        "RFC 6749 §5.1",
        "(OAuth 2.1 \"Token Endpoint Response\"): success → 200, Content-Type: application/json, access_token and token_type REQUIRED, expires_in RECOMMENDED, scope REQUIRED if it differs from the request.…",
    ),
    req(
        43,
        "RFC 6749 §5.2",
        "(OAuth 2.1 same): - An error is HTTP 400 \"unless specified otherwise\", application/json, with error from the registered set: invalid_request, invalid_client, invalid_grant, unauthorized_client,…",
    ),
    req(
        44,
        "RFC 6749 §3.2.1 / §4.1.3",
        "(OAuth 2.1 same): the AS MUST require client authentication for confidential clients, and authenticate the client whenever authentication is included.",
    ),
    req(
        45,
        "RFC 6749 §3.2.1 / §4.1.3",
        "an unauthenticated (public) client MUST send client_id, and the AS MUST ensure the code was issued to that client_id.",
    ),
    req(
        46,
        "RFC 6749 §4.1.3 and §10.5",
        "(RFC 9700 §4.2.4): ensure the code was issued to the authenticated confidential client.",
    ),
    req(
        47,
        "RFC 6749 §2.3 / §2.3.1",
        "the client MUST NOT use more than one authentication method. OAuth 2.1 lists \"utilizes more than one mechanism for authenticating the client\" and \"includes multiple credentials\" under invalid_request.…",
    ),
    req(
        48,
        "RFC 6749 §4.1.3",
        "code REQUIRED; grant_type=authorization_code.",
    ),
    req(
        49,
        "RFC 6749 §4.1.3 and §10.6",
        "redirect_uri is REQUIRED if it was present in the authorization request, and the values MUST be identical. OAuth 2.1 \"Redirect URI Parameter in Token Request\": the AS MUST allow clients to send it and…",
    ),
    req(
        50,
        "RFC 7636 §4.6",
        "compute the challenge from code_verifier using the stored method and compare. If not equal, MUST return invalid_grant (RFC 6749 §5.2).",
    ),
    req(
        51,
        "RFC 7636 §4.5/§4.6; RFC 9700 §2.1.1",
        "(\"If a client sends a valid PKCE code_challenge … the authorization server MUST enforce the correct usage of code_verifier at the token endpoint\"). OAuth 2.1 \"Token Endpoint Extension\": verify that…",
    ),
    req(
        52,
        "RFC 9700 §4.8.2 (PKCE downgrade)",
        "\"the authorization server MUST ensure that if there was no code_challenge in the authorization request, a request to the token endpoint containing a code_verifier is rejected.\" Also §2.1.1 (MUST). OAuth 2.1:…",
    ),
    req(
        53,
        "Plain-substitution",
        "(derived from RFC 7636 §4.6 \"using the method specified by the client\" in the authorization request): challenge sent with S256, then code_verifier = code_challenge.",
    ),
    req(
        54,
        "RFC 7636 §4.1 ABNF",
        "(code-verifier = 43*128unreserved) and §7.1 (entropy ≥ 256 bits RECOMMENDED for clients).",
    ),
    req(
        55,
        "Failed PKCE attempt consumes the code",
        "(derived: RFC 6749 §10.5 \"single-use\", the node-oauth2-server 5.3.0 fix, and the oauth-v2-1 issue #82 discussion).",
    ),
    req(
        56,
        "RFC 7636 §7.2",
        "S256 prevents eavesdroppers. Under OAuth 2.1 and RFC 9700, plain SHOULD NOT be accepted when S256 is possible, and FAPI MUST reject it.",
    ),
    req(
        57,
        "RFC 6749 §4.1.2 and §10.5",
        "codes MUST be single-use. If a code is used more than once, the AS MUST deny the request. OAuth 2.1: \"MUST return an access token only once for a given authorization code.\" Expected: second redemption…",
    ),
    req(
        58,
        "Same, under concurrency",
        "the \"only once\" rule must hold for N simultaneous redemptions (single-packet attack, §4).",
    ),
    req(
        59,
        "RFC 6749 §4.1.2 and §10.5",
        "(OAuth 2.1 \"Token Endpoint Extension\"): on reuse the AS SHOULD revoke all tokens previously issued from that code.",
    ),
    req(
        60,
        "OAuth 2.1 \"Reuse of Authorization Codes\"",
        "the AS \"SHOULD NOT revoke any issued tokens when receiving a replayed authorization code that contains invalid parameters\", to avoid DoS.",
    ),
    req(
        61,
        "RFC 9700 §2.2.2 and §4.14.2",
        "refresh tokens for public clients MUST be sender-constrained or rotated. With rotation, reuse of an old refresh token invalidates the active one.",
    ),
    req(
        62,
        "RFC 9700 §2.5",
        "the AS SHOULD enforce client authentication where feasible, and asymmetric methods (private_key_jwt, mTLS) are RECOMMENDED.",
    ),
    req(
        63,
        "RFC 9700 §2.1.1",
        "confidential clients RECOMMENDED to use PKCE. An AS MAY rely on OIDC nonce for confidential OIDC clients \"with additional precautions\" (§4.5.3.2).",
    ),
    req(
        64,
        "RFC 6749 §10.12",
        "the AS MUST implement CSRF protection for its authorization endpoint and ensure a malicious client cannot obtain authorization without explicit consent.",
    ),
    req(
        65,
        "RFC 8252 §8.6",
        "(Doorkeeper CVE-2023-34246): the AS SHOULD NOT process public-client authorization requests automatically without consent.",
    ),
];

/// Every catalogued bug, in order.
pub const BUGS: &[Bug] = &[
    bug(
        1,
        "CVE-2024-22258 (GHSA-x637-x8p3-5p22) (C)",
        "Spring Authorization Server 1.0.0–1.0.5, 1.1.0–1.1.5, 1.2.0–1.2.2",
        "\"susceptible to a PKCE Downgrade Attack for Confidential Clients … when a Confidential Client uses PKCE\" (https://spring.io/security/cve-2024-22258; reported by P. Philippaerts)",
    ),
    bug(
        2,
        "CVE-2025-4144 (GHSA-qgp8-v765-qxx9) (C)",
        "Cloudflare workers-oauth-provider < 0.0.5 (MCP)",
        "\"an attacker could cause the check to be skipped … This bug completely bypasses PKCE protection\", fixed by PR #27 \"Mitigated PKCE Downgrade Attack\"",
    ),
    bug(
        3,
        "CVE-2023-48228 (GHSA-fm34-v8xq-f2c3) (C)",
        "authentik < 2023.8.5 / 2023.10.4",
        "\"authentik checks if the contents of code_verifier is matching only when it is provided. When it is left out completely, authentik simply accepts the token request\" (cvelistV5 record)",
    ),
    bug(
        4,
        "django-oidc-provider commit 8bfcd47 (I)",
        "juanifioren/django-oidc-provider",
        "\"Before this change the PKCE secret would be verified only if it was sent by the client\"",
    ),
    bug(
        5,
        "CVE-2026-41213 (GHSA-jhm7-29pj-4xvf) (C)",
        "@node-oauth/oauth2-server < 5.3.0",
        "Accepted RFC-invalid verifiers (even 1 character) for S256, and \"failed verifier attempts do not consume the authorization code\", allowing online brute force. Fix in v5.3.0: enforce the ABNF,…",
    ),
    bug(
        6,
        "Keycloak PR #26808, closes #26430 (I, 2024-02)",
        "Keycloak",
        "With PKCE not enforced per client, a code_verifier without a prior code_challenge was accepted. Fixed to return an error",
    ),
    bug(
        7,
        "thephpleague/oauth2-server #1323 → PR #1326 (I, 2023)",
        "league/oauth2-server",
        "\"there is no attempt made to validate the code challenge at all if authorization code payload does not contain code_challenge, even if the token request contains code_verifier\"",
    ),
    bug(
        8,
        "zitadel/oidc PR #721 and #741 (I, 2025)",
        "zitadel/oidc (Go OP library)",
        "#721: \"always check the code_verifier when a code_challenge is present\". #741: RFC 9700 §4.8 downgrade mitigation",
    ),
    bug(
        9,
        "kanidm #1097 / PR #1098 (I, 2022)",
        "Kanidm",
        "Reported PKCE downgrade. Maintainers argued the encrypted code exchange prevents it and added tests",
    ),
    bug(
        10,
        "CVE-2026-68079 (C)",
        "Apache CXF DefaultEncryptingCodeDataProvider < 4.2.3 / 4.1.8 / 3.6.12",
        "\"a captured authorization code can be redeemed an unlimited number of times due to a flaw in … removeCodeGrant\"",
    ),
    bug(
        11,
        "CVE-2026-73311 (C)",
        "XenForo < 2.3.13",
        "\"failure to invalidate or mark authorization codes as consumed after initial token issuance\" gives an independent token pair",
    ),
    bug(
        12,
        "django-oidc-provider PR #411 (I); ory/fosite #778 (I)",
        "django-oidc-provider; fosite (storage-dependent)",
        "Parallel redemption of one code succeeds more than once",
    ),
    bug(
        13,
        "CVE-2020-15233 (GHSA-rfq3-w54c-f9q5) (C)",
        "ORY fosite 0.30.2–<0.34.1",
        "Loopback (RFC 8252 §7.3) handling ignored the query and even the host of the registered redirect URL: registered https://example.com/callback also accepted http://127.0.0.1/callback",
    ),
    bug(
        14,
        "GHSA-grfp-q2mm-hfp6 (CVE-2020-15234) (C)",
        "ORY fosite < 0.34.1",
        "Redirect URLs compared with strings.ToLower, so https://example.com/CALLBACK was accepted",
    ),
    bug(
        15,
        "CVE-2023-6291, CVE-2024-1132, CVE-2022-3782, CVE-2026-3872, CVE-2026-7504 (C)",
        "Keycloak",
        "Variants of wildcard redirect_uri validation bypass: host bypass, path traversal, double URL encoding, same-server path, open redirect",
    ),
    bug(
        16,
        "GHSA-9vm7-v8wj-3fqw (C)",
        "Keycloak",
        "Incomplete fix of CVE-2023-6134: switching response_mode from form_post to form_post.jwt re-enabled code or token theft with wildcard redirect URIs",
    ),
    bug(
        17,
        "CVE-2024-8883 (GHSA-vvf8-2h68-9475) (C)",
        "Keycloak",
        "With http://localhost or http://127.0.0.1 as a valid redirect URI, redirect_uri=http://localhost:80@attacker redirected to the attacker (userinfo confusion)",
    ),
    bug(
        18,
        "CVE-2022-39222 (GHSA-vh7g-p26c-j2cw) (C)",
        "Dex < 2.35.0",
        "\"Dex instances with public clients … An attacker can … guid[e] them through the OIDC flow, stealing the OAuth authorization code\" (CVSS 9.3)",
    ),
    bug(
        19,
        "CVE-2019-11269 / CVE-2019-3778 (C)",
        "Spring Security OAuth 2.0.x–2.3.x",
        "Open redirector leaks the authorization code through a manipulated redirect_uri",
    ),
    bug(
        20,
        "CVE-2023-34246 (GHSA-7w2c-w47h-789w) (C)",
        "Doorkeeper < 5.6.6; GitLab (overrode the fixed method, GitLab issue #419497)",
        "Authorization requests from previously approved public clients were auto-processed without consent (RFC 8252 §8.6 says SHOULD NOT)",
    ),
    bug(
        21,
        "CVE-2017-18924 (disputed) / CVE-2020-7692 (C)",
        "oauth2-server (node) ≤ 3.1.1 had no PKCE; google-oauth-java-client < 1.31.0 (client side)",
        "No PKCE support at all",
    ),
    bug(
        22,
        "oauthjs/node-oauth2-server #637 (I)",
        "node-oauth2-server",
        "\"Does not revoke previously issued token if authorization_code is used more than once\"",
    ),
    bug(
        23,
        "spring-authorization-server #770 (I)",
        "Spring Authorization Server",
        "After removing plain, a request with code_challenge but no code_challenge_method (which defaults to plain, RFC 7636 §4.3) was accepted at /authorize and then failed at /token with 400…",
    ),
];

/// Looks up `REQ-n`.
pub fn requirement(id: &str) -> Option<&'static Requirement> {
    let n: u16 = id.strip_prefix("REQ-")?.parse().ok()?;
    REQUIREMENTS.iter().find(|r| r.number == n)
}

/// Looks up `BUG-n`.
pub fn bug_by_id(id: &str) -> Option<&'static Bug> {
    let n: u16 = id.strip_prefix("BUG-")?.parse().ok()?;
    BUGS.iter().find(|b| b.number == n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogue_is_complete_and_numbered_in_order() {
        assert_eq!(REQUIREMENTS.len(), 65);
        assert_eq!(BUGS.len(), 23);
        for (i, r) in REQUIREMENTS.iter().enumerate() {
            assert_eq!(usize::from(r.number), i + 1);
        }
        for (i, b) in BUGS.iter().enumerate() {
            assert_eq!(usize::from(b.number), i + 1);
        }
        assert_eq!(
            requirement("REQ-50").map(|r| r.source),
            Some("RFC 7636 §4.6")
        );
        assert!(requirement("REQ-66").is_none() && requirement("REQ-x").is_none());
        assert!(bug_by_id("BUG-1").is_some_and(|b| b.ident.contains("CVE-2024-22258")));
    }
}
