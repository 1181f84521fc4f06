//! Maps YAML key paths to line numbers.
//!
//! serde_yaml does not keep positions in the values it parses, so the generator reads the text a
//! second time and records the line of every block-mapping key and list item. Keys inside flow
//! mappings (`{type: string}`) resolve to the line of their nearest block-style ancestor, which is
//! the line the author has to look at anyway.

use std::collections::HashMap;

/// Line numbers of the keys of one YAML file.
#[derive(Debug, Default)]
pub struct LineIndex {
    lines: HashMap<Vec<String>, usize>,
}

impl LineIndex {
    /// Indexes `text`.
    pub fn new(text: &str) -> Self {
        let mut index = LineIndex::default();
        // (indent, path component) of the open mappings and list items.
        let mut stack: Vec<(usize, String)> = Vec::new();
        // Item counters per parent path, for `- ` entries.
        let mut items: HashMap<Vec<String>, usize> = HashMap::new();
        // Indent of the key that opened a block scalar (`|`, `>`): deeper lines are text.
        let mut block_scalar: Option<usize> = None;

        for (n, raw) in text.lines().enumerate() {
            let line_no = n + 1;
            let content = raw.trim_start();
            let indent = raw.len() - content.len();
            if let Some(open) = block_scalar {
                if content.is_empty() || indent > open {
                    continue;
                }
                block_scalar = None;
            }
            if content.is_empty() || content.starts_with('#') || content.starts_with("---") {
                continue;
            }
            let mut rest = content;
            let mut col = indent;
            // List items: `- key: value` or `- {flow}`.
            while let Some(after) =
                rest.strip_prefix("- ")
                    .or(if rest == "-" { Some("") } else { None })
            {
                while stack.last().is_some_and(|(i, _)| *i >= col) {
                    stack.pop();
                }
                let parent: Vec<String> = stack.iter().map(|(_, k)| k.clone()).collect();
                let counter = items.entry(parent.clone()).or_insert(0);
                let item = format!("#{counter}");
                *counter += 1;
                let mut path = parent;
                path.push(item.clone());
                index.lines.entry(path).or_insert(line_no);
                stack.push((col, item));
                col += 2;
                rest = after.trim_start();
            }
            let Some((key, value)) = split_key(rest) else {
                continue;
            };
            while stack.last().is_some_and(|(i, _)| *i >= col) {
                stack.pop();
            }
            let mut path: Vec<String> = stack.iter().map(|(_, k)| k.clone()).collect();
            path.push(key.clone());
            index.lines.entry(path).or_insert(line_no);
            stack.push((col, key));
            let value = value.trim();
            if value.starts_with('|') || value.starts_with('>') {
                block_scalar = Some(col);
            }
        }
        index
    }

    /// The line of the deepest known prefix of `path` (1 when nothing matches).
    pub fn line(&self, path: &[&str]) -> usize {
        let mut owned: Vec<String> = path.iter().map(|s| s.to_string()).collect();
        while !owned.is_empty() {
            if let Some(line) = self.lines.get(&owned) {
                return *line;
            }
            owned.pop();
        }
        1
    }
}

/// Splits `key: value` (or `key:` alone) at the first unquoted `: `.
fn split_key(s: &str) -> Option<(String, &str)> {
    if s.starts_with('{') || s.starts_with('[') {
        return None;
    }
    let (key, rest) = if let Some(quote @ ('"' | '\'')) = s.chars().next() {
        let end = s[1..].find(quote)? + 1;
        (&s[1..end], &s[end + 1..])
    } else {
        let end = s.find(':')?;
        (&s[..end], &s[end..])
    };
    let rest = rest.strip_prefix(':')?;
    if !(rest.is_empty() || rest.starts_with(' ') || rest.starts_with('\t')) {
        return None;
    }
    Some((key.trim().to_string(), rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_nested_keys_list_items_and_skips_block_scalars() {
        let text = "version: 1\nendpoints:\n  get:\n    body:\n      userid: {type: string}\n    example: |\n      {\"userid\": 1,\n       \"x\": 2}\n  list:\n    method: GET\ntypes:\n  E:\n    values:\n      - {value: a}\n      - value: b\n        doc: x\n";
        let idx = LineIndex::new(text);
        assert_eq!(idx.line(&["endpoints", "get", "body", "userid"]), 5);
        assert_eq!(idx.line(&["endpoints", "get", "body", "userid", "type"]), 5);
        assert_eq!(idx.line(&["endpoints", "get", "example"]), 6);
        assert_eq!(idx.line(&["endpoints", "list", "method"]), 10);
        assert_eq!(idx.line(&["types", "E", "values", "#0"]), 14);
        assert_eq!(idx.line(&["types", "E", "values", "#1", "doc"]), 16);
        assert_eq!(idx.line(&["nothing"]), 1);
        // JSON keys inside the block scalar are not YAML keys.
        assert_eq!(idx.line(&["endpoints", "get", "x"]), 3);
    }
}
