//! WeCom's callback transport ("WXBizMsgCrypt"): the signature, the AES envelope and the
//! `change_external_tag` event, as `tagsync watch` receives them and the emulator sends
//! them (spec: wecom-api.md, "Change callbacks").
//!
//! - signature: hex SHA-1 of `[token, timestamp, nonce, encrypted]` sorted and joined;
//! - key: base64 of the 43-character EncodingAESKey plus `=` (32 bytes); IV: its first 16;
//! - AES-256-CBC, PKCS#7 padding to a 32-byte block, over 16 random bytes, the message's
//!   length (4 bytes, big-endian), the message, and the receive id (the corp id).

use aes::cipher::block_padding::NoPadding;
use aes::cipher::{BlockDecryptMut, BlockEncryptMut, KeyIvInit};
use base64::Engine;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use sha1::{Digest, Sha1};

type Encryptor = cbc::Encryptor<aes::Aes256>;
type Decryptor = cbc::Decryptor<aes::Aes256>;

/// WeCom pads to this block, not AES's 16.
const PAD_BLOCK: usize = 32;

/// Why a callback was refused. The messages never hold the key, the token or a payload.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallbackError {
    #[error("the EncodingAESKey is not 43 characters of base64 (it gives 32 bytes)")]
    BadKey,
    #[error("the signature does not match")]
    BadSignature,
    #[error("the encrypted text is not base64 of whole AES blocks")]
    BadCiphertext,
    #[error("the decrypted text is not a WeCom message (padding or length wrong)")]
    BadPlaintext,
    #[error("the message is for another receiver (receive id {0:?})")]
    WrongReceiver(String),
    #[error("the body has no <Encrypt> element")]
    NoEncrypt,
}

/// The token and key of one callback URL, and whose messages it accepts.
#[derive(Clone)]
pub struct Crypto {
    token: String,
    key: [u8; 32],
    receive_id: String,
}

impl std::fmt::Debug for Crypto {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Crypto")
            .field("receive_id", &self.receive_id)
            .finish_non_exhaustive()
    }
}

impl Crypto {
    pub fn new(
        token: &str,
        encoding_aes_key: &str,
        receive_id: &str,
    ) -> Result<Crypto, CallbackError> {
        // WeCom's keys may leave the last character's spare bits set; base64 decoders
        // of the vendor's samples ignore them.
        let lenient = GeneralPurpose::new(
            &base64::alphabet::STANDARD,
            GeneralPurposeConfig::new().with_decode_allow_trailing_bits(true),
        );
        let key = lenient
            .decode(format!("{}=", encoding_aes_key.trim()))
            .map_err(|_| CallbackError::BadKey)?;
        let key: [u8; 32] = key.try_into().map_err(|_| CallbackError::BadKey)?;
        Ok(Crypto {
            token: token.to_string(),
            key,
            receive_id: receive_id.to_string(),
        })
    }

    /// The signature of `encrypted` sent at `timestamp` with `nonce`.
    pub fn sign(&self, timestamp: &str, nonce: &str, encrypted: &str) -> String {
        let mut parts = [self.token.as_str(), timestamp, nonce, encrypted];
        parts.sort_unstable();
        let digest = Sha1::digest(parts.concat().as_bytes());
        digest.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Whether `signature` is the one of these values (compared in constant time).
    pub fn verify(&self, signature: &str, timestamp: &str, nonce: &str, encrypted: &str) -> bool {
        let want = self.sign(timestamp, nonce, encrypted);
        let got = signature.trim().to_ascii_lowercase();
        want.len() == got.len()
            && want
                .bytes()
                .zip(got.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
    }

    /// `message` sealed for this receiver, base64; `random` is the 16-byte prefix.
    pub fn encrypt(&self, message: &[u8], random: [u8; 16]) -> String {
        let mut plain = Vec::with_capacity(20 + message.len() + self.receive_id.len() + PAD_BLOCK);
        plain.extend_from_slice(&random);
        plain.extend_from_slice(&(message.len() as u32).to_be_bytes());
        plain.extend_from_slice(message);
        plain.extend_from_slice(self.receive_id.as_bytes());
        let pad = PAD_BLOCK - plain.len() % PAD_BLOCK;
        plain.extend(std::iter::repeat_n(pad as u8, pad));
        let len = plain.len();
        let iv: [u8; 16] = self.iv();
        let sealed = Encryptor::new(&self.key.into(), &iv.into())
            .encrypt_padded_mut::<NoPadding>(&mut plain, len)
            .map(<[u8]>::to_vec)
            .unwrap_or_default();
        STANDARD.encode(sealed)
    }

    /// The message inside `encrypted`, checked to be for this receiver.
    pub fn decrypt(&self, encrypted: &str) -> Result<Vec<u8>, CallbackError> {
        let mut data = STANDARD
            .decode(encrypted.trim())
            .map_err(|_| CallbackError::BadCiphertext)?;
        if data.is_empty() || data.len() % 16 != 0 {
            return Err(CallbackError::BadCiphertext);
        }
        let iv = self.iv();
        let plain = Decryptor::new(&self.key.into(), &iv.into())
            .decrypt_padded_mut::<NoPadding>(&mut data)
            .map_err(|_| CallbackError::BadCiphertext)?;
        let pad = usize::from(*plain.last().ok_or(CallbackError::BadPlaintext)?);
        if pad == 0 || pad > PAD_BLOCK || pad > plain.len() {
            return Err(CallbackError::BadPlaintext);
        }
        let body = &plain[..plain.len() - pad];
        if body.len() < 20 {
            return Err(CallbackError::BadPlaintext);
        }
        let mut len = [0u8; 4];
        len.copy_from_slice(&body[16..20]);
        let len = u32::from_be_bytes(len) as usize;
        let rest = &body[20..];
        if len > rest.len() {
            return Err(CallbackError::BadPlaintext);
        }
        let (message, receiver) = rest.split_at(len);
        if receiver != self.receive_id.as_bytes() {
            // Shown with `{:?}`, which escapes control and format characters.
            let shown: String = String::from_utf8_lossy(receiver).chars().take(64).collect();
            return Err(CallbackError::WrongReceiver(shown));
        }
        Ok(message.to_vec())
    }

    fn iv(&self) -> [u8; 16] {
        let mut iv = [0u8; 16];
        iv.copy_from_slice(&self.key[..16]);
        iv
    }
}

/// The text of the first `<name>` element of a small XML document, CDATA unwrapped.
/// WeCom's callback bodies are flat and small; this reads nothing else.
pub fn xml_field(xml: &str, name: &str) -> Option<String> {
    let open = format!("<{name}>");
    let close = format!("</{name}>");
    let start = xml.find(&open)? + open.len();
    let end = start + xml[start..].find(&close)?;
    let inner = xml[start..end].trim();
    let inner = inner
        .strip_prefix("<![CDATA[")
        .and_then(|s| s.strip_suffix("]]>"))
        .unwrap_or(inner);
    Some(inner.to_string())
}

/// One `change_external_tag` event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagEvent {
    /// The corp.
    pub to: String,
    pub create_time: i64,
    /// The tag or group id (empty on `shuffle`).
    pub id: String,
    /// `tag` or `tag_group`.
    pub tag_type: String,
    /// `create`, `update`, `delete` or `shuffle`.
    pub change_type: String,
    pub strategy_id: Option<String>,
}

impl TagEvent {
    /// The event's decrypted XML, as WeCom writes it.
    pub fn to_xml(&self) -> String {
        let strategy = self
            .strategy_id
            .as_ref()
            .map(|s| format!("<StrategyId><![CDATA[{s}]]></StrategyId>"))
            .unwrap_or_default();
        format!(
            "<xml><ToUserName><![CDATA[{}]]></ToUserName><FromUserName><![CDATA[sys]]></FromUserName>\
             <CreateTime>{}</CreateTime><MsgType><![CDATA[event]]></MsgType>\
             <Event><![CDATA[change_external_tag]]></Event><Id><![CDATA[{}]]></Id>\
             <TagType><![CDATA[{}]]></TagType><ChangeType><![CDATA[{}]]></ChangeType>{strategy}</xml>",
            self.to, self.create_time, self.id, self.tag_type, self.change_type
        )
    }

    /// The event in decrypted XML; `None` when it is another event.
    pub fn from_xml(xml: &str) -> Option<TagEvent> {
        if xml_field(xml, "Event")? != "change_external_tag" {
            return None;
        }
        Some(TagEvent {
            to: xml_field(xml, "ToUserName").unwrap_or_default(),
            create_time: xml_field(xml, "CreateTime")
                .and_then(|t| t.parse().ok())
                .unwrap_or(0),
            id: xml_field(xml, "Id").unwrap_or_default(),
            tag_type: xml_field(xml, "TagType").unwrap_or_default(),
            change_type: xml_field(xml, "ChangeType").unwrap_or_default(),
            strategy_id: xml_field(xml, "StrategyId").filter(|s| !s.is_empty()),
        })
    }
}

/// The POST body carrying `encrypted` to the callback URL.
pub fn envelope(corp_id: &str, encrypted: &str) -> String {
    format!(
        "<xml><ToUserName><![CDATA[{corp_id}]]></ToUserName><AgentID><![CDATA[]]></AgentID>\
         <Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    // The EncodingAESKey of WeCom's own sample (43 characters).
    const KEY: &str = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C";

    #[test]
    fn a_message_survives_the_round_trip_and_only_for_its_receiver() {
        let c = Crypto::new("QDG6eK", KEY, "wx5823bf96d3bd56c7").unwrap();
        let sealed = c.encrypt("<xml>hi</xml>".as_bytes(), [7; 16]);
        assert_eq!(c.decrypt(&sealed).unwrap(), b"<xml>hi</xml>");
        let other = Crypto::new("QDG6eK", KEY, "ww-other").unwrap();
        assert!(matches!(
            other.decrypt(&sealed),
            Err(CallbackError::WrongReceiver(_))
        ));
        assert!(Crypto::new("t", "short", "r").is_err());
        assert_eq!(c.decrypt("not base64!"), Err(CallbackError::BadCiphertext));
    }

    #[test]
    fn the_signature_is_sha1_of_the_sorted_parts() {
        let c = Crypto::new("QDG6eK", KEY, "r").unwrap();
        // Python: hashlib.sha1("".join(sorted([token, timestamp, nonce, text]))).
        let s = c.sign("1409659813", "1372623149", "abc");
        assert_eq!(s, "a4bd54b5f0f49c941592072a6b1c6ea509750ddc");
        assert!(c.verify(&s, "1409659813", "1372623149", "abc"));
        assert!(c.verify(&s.to_uppercase(), "1409659813", "1372623149", "abc"));
        assert!(!c.verify(&s, "1409659814", "1372623149", "abc"));
    }

    #[test]
    fn events_read_back_from_their_xml() {
        let e = TagEvent {
            to: "ww1".into(),
            create_time: 1_700_000_000,
            id: "et1".into(),
            tag_type: "tag".into(),
            change_type: "update".into(),
            strategy_id: None,
        };
        assert_eq!(TagEvent::from_xml(&e.to_xml()), Some(e));
        assert_eq!(TagEvent::from_xml("<xml><Event>other</Event></xml>"), None);
        assert_eq!(
            xml_field(&envelope("ww1", "AAA"), "Encrypt").as_deref(),
            Some("AAA")
        );
    }
}
