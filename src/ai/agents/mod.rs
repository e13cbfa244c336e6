//! The assistant's agent, generic over its tools: it knows chat models, embeddings and JSON
//! schemas, never the portal's repositories or services (the concrete tools live with the
//! services they call, `services::assistant::tools`).
//!
//! - [`router`]: which tool a message asks for, by embedding similarity to example phrases
//!   plus keywords (small local models do not choose tools reliably), and the deterministic
//!   yes/no that confirms a write.
//! - [`arguments`]: the chosen tool's arguments as constrained JSON, checked in code.
//! - [`citations`]: the sources numbered by the server, and the `[n]` of an answer mapped back
//!   to them (numbers it did not hand out are dropped, from the text too).
//! - [`quoting`]: untrusted text quoted as data between random delimiters.
//! - [`tool_loop`]: the `Tool` contract, a toolbox, and the bounded loop of tool steps (native
//!   tool calls for hosted models).

pub mod arguments;
pub mod citations;
pub mod quoting;
pub mod router;
pub mod tool_loop;
