//! Human output by default, one JSON document with `--json`.

use crate::failure::{Failure, FailureKind};
use leash_sdk::service::ServiceError;
use serde_json::{Value, json};
use std::{
    io::{self, Write},
    process::ExitCode,
};

/// Where command results go: human lines on stdout, or (with `--json`) a single JSON value.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Output {
    json: bool,
}

impl Output {
    pub(crate) fn new(json: bool) -> Self {
        Self { json }
    }

    /// Whether the JSON document is wanted instead of human lines.
    pub(crate) fn is_json(&self) -> bool {
        self.json
    }

    /// A line for people (nothing with `--json`).
    pub(crate) fn line(&self, text: impl AsRef<str>) {
        if !self.json {
            print_stdout(text.as_ref());
        }
    }

    /// The command's result for scripts (nothing without `--json`).
    pub(crate) fn document(&self, value: Value) {
        if self.json {
            print_stdout(&format!("{value:#}"));
        }
    }

    /// A progress line on stderr, with or without `--json` (stdout stays one document).
    pub(crate) fn progress(&self, text: impl AsRef<str>) {
        let _ = writeln!(io::stderr().lock(), "{}", text.as_ref());
    }

    /// Reports `report` and returns its exit code: the message always goes to stderr; with
    /// `--json`, `{"error": {"kind", "exitCode", "message"}}` also goes to stdout, with the
    /// service's `"code"` when the service failed.
    pub(crate) fn failure(&self, report: &eyre::Report) -> ExitCode {
        let service = report.downcast_ref::<ServiceError>();
        let failure_kind = match (report.downcast_ref::<Failure>(), service) {
            (Some(failure), _) => Some(failure.kind),
            (None, Some(error)) => FailureKind::of_service(error),
            (None, None) => None,
        };
        let (kind, code) =
            failure_kind.map_or(("error", 1), |kind| (kind.name(), kind.exit_code()));
        let message = format!("{report:#}");
        // Like stdout below, a closed stderr is not worth a panic.
        let _ = writeln!(io::stderr().lock(), "error: {message}");
        if self.json {
            let mut error = json!({"kind": kind, "exitCode": code, "message": message});
            if let Some(service) = service {
                error["code"] = json!(service.code());
            }
            let error = json!({ "error": error });
            print_stdout(&format!("{error:#}"));
        }
        ExitCode::from(code)
    }
}

/// Writes a line to stdout, ignoring a closed pipe (`leash … | head` must not panic).
pub(crate) fn print_stdout(text: &str) {
    let _ = writeln!(io::stdout().lock(), "{text}");
}
