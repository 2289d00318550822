// SPDX-License-Identifier: GPL-2.0
//! Command-line options of the form `--name value`.

/// The process's arguments.
pub struct Args(Vec<String>);

impl Args {
    pub fn from_env() -> Args {
        Args(std::env::args().collect())
    }

    /// The value after the first `name`, if any.
    pub fn opt(&self, name: &str) -> Option<String> {
        self.0
            .iter()
            .position(|a| a == name)
            .and_then(|i| self.0.get(i + 1))
            .cloned()
    }

    /// Whether the flag `name` is given.
    pub fn flag(&self, name: &str) -> bool {
        self.0.iter().any(|a| a == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_follows_its_name_and_a_missing_one_is_none() {
        let a = Args(
            ["prog", "-v", "--delay-ms", "5", "--last"]
                .map(String::from)
                .to_vec(),
        );
        assert_eq!(a.opt("--delay-ms").as_deref(), Some("5"));
        assert_eq!(a.opt("--last"), None);
        assert_eq!(a.opt("--absent"), None);
        assert!(a.flag("-v") && !a.flag("-q"));
    }
}
