//! dockharden's parsers, fix engine and transforms. No file system, network or terminal access here:
//! every function takes text and returns findings and edits.

pub mod apply;
pub mod compose;
pub mod dockerfile;
pub mod edit;
pub mod engine;
pub mod finding;
pub mod fix;
pub mod images;
pub mod knowledge;
pub mod kubernetes;
pub mod needs;
pub mod paths;
pub mod registry;
pub mod scripts;
pub mod session;
pub mod settings;
pub mod source;
pub mod suppression;
pub mod text;
pub mod yaml;

pub use edit::Edit;
pub use finding::Finding;
pub use fix::{Applicability, Fix, SemanticPath};
pub use text::{LineCol, LineIndex, TextRange};
