//! Logs and progress go to stderr so that stdout carries only data (`diff --format json`).

use std::fmt;
use std::io::IsTerminal;
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::{FormatEvent, FormatFields, Writer};
use tracing_subscriber::fmt::{FmtContext, FormattedFields};
use tracing_subscriber::registry::LookupSpan;

pub fn init(debug: bool) {
    let level = if debug { Level::DEBUG } else { Level::INFO };
    let filter = tracing_subscriber::filter::Targets::new()
        .with_target("directus_sync", level)
        .with_default(Level::WARN);
    let ansi = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let subscriber = tracing_subscriber::fmt()
        // The builder filters at INFO by default; the `Targets` filter below decides instead.
        .with_max_level(Level::TRACE)
        .with_writer(|| AroundProgress)
        .with_ansi(ansi)
        .event_format(PlainFormat { ansi })
        .finish();
    use tracing_subscriber::layer::SubscriberExt;
    let _ = tracing::subscriber::set_global_default(subscriber.with(filter));
}

/// Stderr, with the progress bar lifted while a line is written (see [`super::suspend`]).
struct AroundProgress;

impl std::io::Write for AroundProgress {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        super::suspend(|| std::io::stderr().write(buf))
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

/// `message` for info, `warning: message` / `error: message` / `debug: message` otherwise:
/// the output reads like a CLI's, not like a server log.
struct PlainFormat {
    ansi: bool,
}

impl<S, N> FormatEvent<S, N> for PlainFormat
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let (label, color) = match *event.metadata().level() {
            Level::ERROR => ("error: ", "\x1b[31m"),
            Level::WARN => ("warning: ", "\x1b[33m"),
            Level::INFO => ("", ""),
            Level::DEBUG => ("debug: ", "\x1b[2m"),
            Level::TRACE => ("trace: ", "\x1b[2m"),
        };
        if self.ansi && !color.is_empty() {
            write!(writer, "{color}{label}\x1b[0m")?;
        } else {
            write!(writer, "{label}")?;
        }
        if let Some(scope) = ctx.event_scope() {
            for span in scope.from_root() {
                let extensions = span.extensions();
                if let Some(fields) = extensions.get::<FormattedFields<N>>()
                    && !fields.is_empty()
                {
                    write!(writer, "[{fields}] ")?;
                }
            }
        }
        ctx.field_format().format_fields(writer.by_ref(), event)?;
        writeln!(writer)
    }
}
