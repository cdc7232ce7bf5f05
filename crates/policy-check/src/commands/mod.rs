//! One module per command. A command reads its input through [`crate::input`] and
//! [`crate::policies`], decides, and prints through [`crate::report`]; no command imports another.

pub mod apigw;
pub mod authorize;
pub mod check;
pub mod eval;
pub mod lint;
mod lint_pools;
pub mod pool;
pub mod serve;
pub mod template;
pub mod test;
pub mod token;
pub mod validate;
