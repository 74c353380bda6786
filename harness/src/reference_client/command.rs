//! The `command` driver's protocol: one login per run of the program.

use std::collections::BTreeSet;

use tokio::io::AsyncBufReadExt as _;
use url::Url;

use super::flow::{Client, ClientError, refused, setup};
use crate::client_defect::ClientDefect;
use crate::params::Params;

/// One login, start to end, with `defects` switched on; `Ok` is an accepted login.
pub async fn login(defects: &BTreeSet<ClientDefect>) -> Result<(), ClientError> {
    let client = Client::new(defects.clone()).await?;
    let begun = client.begin().await?;
    let back = authorize(&begun.url, client.has(ClientDefect::RetriesOnError)).await?;
    client.finish(&begun, &back).await
}

/// How many times the `retries-on-error` defect starts again.
const RETRIES: usize = 5;

/// Prints the authorization URL for the browser and reads back where the browser was sent.
/// An error answer is the login's end (refused, by [`Client::finish`]); with `retry` (the
/// defect) the client starts again instead, up to [`RETRIES`] times.
async fn authorize(url: &Url, retry: bool) -> Result<Params, ClientError> {
    let mut input = tokio::io::BufReader::new(tokio::io::stdin());
    for _ in 0..=RETRIES {
        println!("{url}");
        let mut line = String::new();
        input.read_line(&mut line).await.map_err(setup)?;
        let callback = Url::parse(line.trim()).map_err(|_| refused("no redirect came back"))?;
        let back: Params = callback.query().map(Params::parse).unwrap_or_default();
        if back.get("error").is_none() || !retry {
            return Ok(back);
        }
    }
    Err(refused(format!(
        "the server answered an error {} times",
        RETRIES + 1
    )))
}
