//! `tagsync emulator`: run the local WeCom emulator until Ctrl-C or SIGTERM.

use std::io::Write;
use std::net::SocketAddr;

use super::args::EmulatorArgs;
use crate::emulator::{self, EmulatorConfig, configs_from_files};
use crate::exit::Exit;

/// `tagsync emulator`: run until ctrl-c or SIGTERM.
pub fn cmd_emulator(args: &EmulatorArgs) -> Exit {
    match run_cli(args) {
        Ok(()) => Exit::Success,
        Err(msg) => {
            eprintln!("error: {msg}");
            Exit::Error
        }
    }
}

fn run_cli(args: &EmulatorArgs) -> Result<(), String> {
    let mut configs = configs_from_files(args.seed.as_deref(), args.apps.as_deref())
        .map_err(|e| e.to_string())?;
    configs
        .iter_mut()
        .for_each(|c| c.faults = args.faults.faults());
    let addr = listen_addr(&args.listen)?;
    let hint = match configs.as_slice() {
        [config] => login_hint(config, args.apps.is_none()),
        _ => {
            let n = configs.len();
            Box::new(move |at: SocketAddr| {
                format!(
                    "hosting {n} corps; a corp's state: curl 'http://{at}{}?corpid=CORP'",
                    emulator::STATE_PATH
                )
            })
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    runtime.block_on(async {
        let started = match configs.len() {
            1 => emulator::start_on(addr, configs.remove(0)).await,
            _ => emulator::start_corps_on(addr, configs).await,
        };
        let handle = started.map_err(|e| format!("cannot start the emulator on {addr}: {e}"))?;
        let mut out = std::io::stdout().lock();
        writeln!(out, "listening on http://{}", handle.addr())
            .and_then(|()| out.flush())
            .map_err(|e| format!("cannot write to stdout: {e}"))?;
        drop(out);
        let hint = hint(handle.addr());
        if !hint.is_empty() {
            eprintln!("{hint}");
        }
        wait_for_stop().await;
        handle.shutdown().await;
        Ok(())
    })
}

/// What an emulator of one corp prints once listening: how to log in.
fn login_hint(config: &EmulatorConfig, no_apps: bool) -> Box<dyn FnOnce(SocketAddr) -> String> {
    if no_apps {
        let names: Vec<&str> = config.apps.iter().map(|a| a.name.as_str()).collect();
        eprintln!(
            "note: no --apps file; corp_id {:?}, apps {names:?}",
            config.corp_id
        );
    }
    // A test server's secrets are not secrets: show how to log in as the `tagsync` app
    // (or the first one that is not legacy).
    let login = config
        .apps
        .iter()
        .find(|a| a.name == "tagsync")
        .or_else(|| config.apps.iter().find(|a| !a.legacy))
        .cloned();
    let corp_id = config.corp_id.clone();
    Box::new(move |at: SocketAddr| match login {
        Some(app) => format!(
            "to plan against it (as app `{}`):\n  export WECOM_API_BASE=http://{at}/cgi-bin/ \
             WECOM_CORP_ID={} WECOM_CORP_SECRET={}\nits state: curl http://{at}{}",
            app.name,
            shell_quoted(&corp_id),
            shell_quoted(&app.secret),
            emulator::STATE_PATH
        ),
        None => String::new(),
    })
}

fn listen_addr(listen: &str) -> Result<SocketAddr, String> {
    listen
        .parse()
        .map_err(|e| format!("--listen {listen:?} is not an address like 127.0.0.1:8080: {e}"))
}

/// `s` as one shell word, safe to paste: in single quotes, each `'` written `'\''`.
fn shell_quoted(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    {
        return s.to_string();
    }
    format!("'{}'", s.replace('\'', "'\\''"))
}

pub(super) async fn wait_for_stop() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    fn parse(args: &[&str]) -> Result<crate::cli::Cli, clap::Error> {
        crate::cli::Cli::try_parse_from(["tagsync", "emulator"].iter().chain(args))
    }

    #[test]
    fn printed_values_are_one_shell_word() {
        assert_eq!(super::shell_quoted("ww-test-corp"), "ww-test-corp");
        assert_eq!(super::shell_quoted("ww`x`"), "'ww`x`'");
        assert_eq!(super::shell_quoted("a'b $(c)"), "'a'\\''b $(c)'");
        assert_eq!(super::shell_quoted(""), "''");
    }

    #[test]
    fn fault_flags_parse_and_refuse_bad_rates() {
        let cli = parse(&[
            "--latency-ms",
            "50",
            "--fault-rate",
            "0.1",
            "--fault-seed",
            "9",
        ])
        .expect("parses");
        let crate::cli::Command::Emulator(args) = cli.command else {
            panic!("not the emulator command");
        };
        assert_eq!(args.faults.latency_ms, Some(50));
        assert_eq!(args.faults.fault_rate, Some(0.1));
        assert_eq!(args.faults.fault_seed, 9);
        for bad in ["1.5", "-0.1", "often", "NaN"] {
            let flag = format!("--fault-rate={bad}");
            let e = parse(&[&flag]).expect_err(bad);
            assert!(e.to_string().contains("probability"), "{e}");
        }
    }
}
