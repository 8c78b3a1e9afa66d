//! Values of the configuration that are not the same on every instance, named by path
//! ([`ValuePath`]): `settings.mapbox_key`, `operations[type=request].options.headers[*].value`.

pub mod path;

pub use path::{PathError, ValuePath};
