//! The API base URL: `https` anywhere, plain `http` only on loopback.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use url::{Host, Url};

use super::error::ClientError;

/// WeCom's own API base.
pub const DEFAULT_API_BASE: &str = "https://qyapi.weixin.qq.com/cgi-bin/";

/// Parse and check an API base. The result always ends with `/` so that call paths join
/// under it. Refused: schemes other than http(s); plain http to anything but 127.0.0.0/8,
/// ::1 or localhost; user info, a query or a fragment (the query is where the token goes).
pub fn parse_api_base(text: &str) -> Result<Url, ClientError> {
    let bad = |why: &str| ClientError::Config {
        message: format!("--api-base / WECOM_API_BASE {why}"),
    };
    let text = text.trim();
    let mut url = Url::parse(text).map_err(|e| {
        let hint = if text.contains("://") {
            String::new()
        } else {
            format!(": give the scheme too, e.g. http://{text}/cgi-bin/ (plain http only on loopback) or https://")
        };
        bad(&format!("is not a URL ({e}){hint}"))
    })?;
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(url.host()) => {}
        "http" => {
            return Err(bad(
                "uses plain http to a non-loopback host: use https (plain http is allowed \
                 only for 127.0.0.0/8, ::1 and localhost)",
            ));
        }
        // `localhost:9` parses as scheme `localhost`: a host and port without a scheme.
        other if text.starts_with(&format!("{other}:")) && !text.contains("://") => {
            return Err(bad(&format!(
                "has no scheme: give it, e.g. http://{text}/cgi-bin/ (plain http only on loopback) or https://"
            )));
        }
        other => return Err(bad(&format!("has scheme `{other}`: use https"))),
    }
    if url.host().is_none() {
        return Err(bad("has no host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad("must not carry a user name or password"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(bad("must not carry a query or fragment"));
    }
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Ok(url)
}

/// Check a URL tagsync posts to on its own (a webhook): `https` anywhere, plain `http`
/// only on loopback, as for the API base, since what is posted (a plan, a bearer token)
/// must not cross the network in the clear. `what` names the flag in the message. A query
/// is allowed: webhook URLs carry their key there.
pub fn check_webhook_url(what: &str, text: &str) -> Result<Url, String> {
    let url = Url::parse(text.trim()).map_err(|e| format!("{what} is not a URL ({e})"))?;
    match url.scheme() {
        "https" if url.host().is_some() => Ok(url),
        "http" if is_loopback(url.host()) => Ok(url),
        "http" => Err(format!(
            "{what} uses plain http to a non-loopback host: use https (plain http is allowed \
             only for 127.0.0.0/8, ::1 and localhost)"
        )),
        "https" => Err(format!("{what} has no host")),
        other => Err(format!("{what} has scheme `{other}`: use https")),
    }
}

fn is_loopback(host: Option<Host<&str>>) -> bool {
    match host {
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip == Ipv6Addr::LOCALHOST || mapped_loopback(ip),
        // `localhost` exactly: `localhost.` is a DNS name that any resolver may answer.
        Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// `::ffff:127.x.y.z` is loopback too.
fn mapped_loopback(ip: Ipv6Addr) -> bool {
    ip.to_ipv4_mapped()
        .is_some_and(|v4: Ipv4Addr| IpAddr::V4(v4).is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_literal_loopback_or_localhost_gets_plain_http() {
        for ok in [
            "http://127.0.0.1:9/",
            "http://[::1]:9/",
            "http://localhost:9/",
            "http://LOCALHOST/",
        ] {
            assert!(parse_api_base(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://localhost.:9/",
            "http://localhost.example/",
            "http://127.0.0.1.nip.io/",
        ] {
            assert!(parse_api_base(bad).is_err(), "{bad}");
        }
        let e = parse_api_base("127.0.0.1:8080").unwrap_err().to_string();
        assert!(e.contains("http://127.0.0.1:8080/cgi-bin/"), "{e}");
        let e = parse_api_base("localhost:9").unwrap_err().to_string();
        assert!(e.contains("http://localhost:9/cgi-bin/"), "{e}");
    }

    #[test]
    fn https_anywhere_and_default() {
        let u = parse_api_base(DEFAULT_API_BASE).unwrap();
        assert_eq!(u.as_str(), DEFAULT_API_BASE);
        let u = parse_api_base("https://proxy.example.com/wecom/cgi-bin").unwrap();
        assert_eq!(u.as_str(), "https://proxy.example.com/wecom/cgi-bin/");
        assert_eq!(
            u.join("externalcontact/add_corp_tag").unwrap().as_str(),
            "https://proxy.example.com/wecom/cgi-bin/externalcontact/add_corp_tag"
        );
    }

    #[test]
    fn plain_http_only_on_loopback() {
        for ok in [
            "http://127.0.0.1:8080/cgi-bin/",
            "http://127.10.0.3/cgi-bin/",
            "http://[::1]:9/cgi-bin/",
            "http://localhost:1234/cgi-bin/",
        ] {
            assert!(parse_api_base(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://10.0.0.1/cgi-bin/",
            "http://qyapi.weixin.qq.com/cgi-bin/",
            "http://localhost.evil.com/cgi-bin/",
            // A trailing dot makes a DNS name that any resolver may answer.
            "http://LOCALHOST./cgi-bin/",
            "http://127.0.0.1.nip.io/cgi-bin/",
            "http://[::2]/cgi-bin/",
            "http://128.0.0.1/",
            "ftp://127.0.0.1/",
            "file:///etc/passwd",
            "not a url",
        ] {
            let e = parse_api_base(bad).unwrap_err();
            assert!(e.to_string().contains("api-base"), "{bad}: {e}");
        }
    }

    #[test]
    fn refuses_query_and_credentials() {
        assert!(parse_api_base("https://h/cgi-bin/?access_token=x").is_err());
        assert!(parse_api_base("https://u:p@h/cgi-bin/").is_err());
        assert!(parse_api_base("https://h/cgi-bin/#f").is_err());
    }
}
