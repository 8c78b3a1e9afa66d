/// How the executor reports its progress; the command line draws it (`ui::Progress`), tests
/// and library callers may ignore it (`()`).
pub trait Progress: Send + Sync {
    /// `steps` more steps are done.
    fn advance(&self, steps: u64);
    /// The executor now writes `name` (a collection, `schema`, `id map`).
    fn stage(&self, name: &str);
}

impl Progress for () {
    fn advance(&self, _: u64) {}
    fn stage(&self, _: &str) {}
}
