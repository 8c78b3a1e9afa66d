//! The GraphQL SDL of an instance as the dump keeps it: without the hidden collections, and
//! in an order that does not depend on the order in which the instance's collections and
//! fields were created (Directus lists root fields per collection and fields per column, so two
//! instances with one schema print them differently).
//!
//! Read with a small lexer rather than a GraphQL parser: the text is graphql-compose's printer
//! output (definitions separated by blank lines, one member per line), each definition's head
//! and each member are kept byte for byte, and only their order and the blank lines graphql-js
//! puts between them are written anew.

use crate::collections::collate;
use std::collections::HashSet;

/// The root types whose fields Directus generates per collection.
const ROOTS: [&str; 3] = ["Query", "Mutation", "Subscription"];

/// `sdl` without `hidden` collections, definitions and fields sorted. `None` when the text is
/// not SDL this lexer can split (unbalanced brackets, a block without a keyword).
pub fn normalize(sdl: &str, hidden: &[&str]) -> Option<String> {
    let tokens = tokenize(sdl);
    let mut definitions = split_definitions(sdl, &tokens)?;
    let (mut types, fields) = generated_names(hidden);
    // A type left without members is dropped too, and so is every member that names it: its
    // type was only there for the hidden collection.
    loop {
        let emptied = remove(&mut definitions, &types, &fields);
        if emptied.is_empty() {
            break;
        }
        types.extend(emptied);
    }
    for definition in &mut definitions {
        if definition.sorts_members() {
            definition.members.sort_by(|a, b| collate(&a.name, &b.name));
        }
    }
    definitions.sort_by(|a, b| a.rank().cmp(&b.rank()).then(collate(&a.name, &b.name)));
    let mut out = definitions
        .iter()
        .map(|d| d.print(sdl))
        .collect::<Vec<_>>()
        .join("\n\n");
    if sdl.ends_with('\n') {
        out.push('\n');
    }
    Some(out)
}

/// What Directus 10.13 generates for a collection `c` (`services/graphql/index.js`): its
/// types, and the root fields that read, write or watch it. Fields of other collections that
/// point at `c` go with the types they name.
fn generated_names(hidden: &[&str]) -> (HashSet<String>, HashSet<String>) {
    let mut types = HashSet::new();
    let mut fields = HashSet::new();
    for c in hidden {
        for name in [
            c.to_string(),
            format!("version_{c}"),
            format!("{c}_filter"),
            format!("{c}_aggregated"),
            format!("{c}_aggregated_count"),
            format!("{c}_aggregated_fields"),
            format!("{c}_mutated"),
            format!("create_{c}_input"),
            format!("update_{c}_input"),
        ] {
            types.insert(name);
        }
        for name in [
            c.to_string(),
            format!("{c}_by_id"),
            format!("{c}_aggregated"),
            format!("{c}_by_version"),
            format!("{c}_mutated"),
            format!("create_{c}_items"),
            format!("create_{c}_item"),
            format!("update_{c}"),
            format!("update_{c}_items"),
            format!("update_{c}_batch"),
            format!("update_{c}_item"),
            // The only ones naming no type of `c`: they answer `delete_many` / `delete_one`.
            format!("delete_{c}_items"),
            format!("delete_{c}_item"),
        ] {
            fields.insert(name);
        }
    }
    (types, fields)
}

/// Drops the definitions named in `types`, the root fields named in `fields` and the members
/// that name a type of `types`; returns the names of the definitions that lost their last
/// member (and were dropped).
fn remove(
    definitions: &mut Vec<Definition>,
    types: &HashSet<String>,
    fields: &HashSet<String>,
) -> Vec<String> {
    let mut emptied = Vec::new();
    definitions.retain_mut(|definition| {
        if definition.is_type() && types.contains(&definition.name) {
            return false;
        }
        let before = definition.members.len();
        let root = definition.keyword == "type" && ROOTS.contains(&definition.name.as_str());
        definition.members.retain(|member| {
            !(root && fields.contains(&member.name)
                || member.references.iter().any(|name| types.contains(name)))
        });
        if before > 0 && definition.members.is_empty() {
            emptied.push(definition.name.clone());
            return false;
        }
        true
    });
    emptied
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Name,
    /// A string or block string (descriptions, argument values).
    String,
    Punct(u8),
    /// Numbers and anything else, one character at a time.
    Other,
}

#[derive(Debug, Clone, Copy)]
struct Token {
    kind: Kind,
    start: usize,
    end: usize,
}

impl Token {
    fn is(&self, punct: u8) -> bool {
        self.kind == Kind::Punct(punct)
    }
}

/// The significant tokens of `text`: whitespace, commas and `#` comments are not tokens.
fn tokenize(text: &str) -> Vec<Token> {
    let bytes = text.as_bytes();
    let len = bytes.len();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < len {
        let start = i;
        let kind = match bytes[i] {
            b' ' | b'\t' | b'\n' | b'\r' | b',' => {
                i += 1;
                continue;
            }
            b'#' => {
                while i < len && bytes[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'"' if bytes[i..].starts_with(b"\"\"\"") => {
                i += 3;
                while i < len && !bytes[i..].starts_with(b"\"\"\"") {
                    i += match bytes[i..].starts_with(b"\\\"\"\"") {
                        true => 4,
                        false => 1,
                    };
                }
                i = (i + 3).min(len);
                Kind::String
            }
            b'"' => {
                i += 1;
                while i < len && bytes[i] != b'"' && bytes[i] != b'\n' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                i = (i + 1).min(len);
                Kind::String
            }
            b'_' | b'a'..=b'z' | b'A'..=b'Z' => {
                while i < len && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
                Kind::Name
            }
            punct @ (b'{' | b'}' | b'(' | b')' | b'[' | b']' | b':' | b'=' | b'|' | b'&' | b'@'
            | b'!' | b'$') => {
                i += 1;
                Kind::Punct(punct)
            }
            _ => {
                i += 1;
                while i < len && !text.is_char_boundary(i) {
                    i += 1;
                }
                Kind::Other
            }
        };
        tokens.push(Token {
            kind,
            start,
            end: i.min(len),
        });
    }
    tokens
}

const KEYWORDS: [&str; 9] = [
    "schema",
    "scalar",
    "type",
    "interface",
    "union",
    "enum",
    "input",
    "directive",
    "extend",
];

/// One top-level definition: its description and header, its members (fields, input fields,
/// enum values, union types) and what closes it.
#[derive(Debug)]
struct Definition {
    /// `type`, `input`, `enum`...; after `extend`, the keyword it extends.
    keyword: String,
    extend: bool,
    /// Empty for `schema`; `@name` for a directive.
    name: String,
    /// The text up to the first member (or all of it, for a definition without members).
    head: (usize, usize),
    members: Vec<Member>,
    /// The text after the last member: `\n}` for a body, empty for a union.
    tail: (usize, usize),
    /// Members of a union are ` | `-separated names, not lines.
    union: bool,
}

#[derive(Debug)]
struct Member {
    name: String,
    /// Its text, from the start of its first line.
    text: (usize, usize),
    /// Names in type position (after `:` or `[`), its arguments' included.
    references: Vec<String>,
    /// Starts with a description: graphql-js then sets it off with a blank line, unless it
    /// comes first.
    described: bool,
}

impl Definition {
    fn is_type(&self) -> bool {
        !matches!(self.keyword.as_str(), "schema" | "directive")
    }

    /// Fields and input fields have no order that means anything; enum values and the
    /// operation types of `schema` keep Directus' order.
    fn sorts_members(&self) -> bool {
        matches!(self.keyword.as_str(), "type" | "interface" | "input")
    }

    /// graphql-compose's `GROUP_BY_TYPE` order, which Directus prints: directives, the root
    /// types, then scalars, enums, unions, interfaces, object types and input types, each
    /// group by name.
    fn rank(&self) -> (u8, usize) {
        if self.extend {
            return (8, 0);
        }
        match self.keyword.as_str() {
            "schema" | "directive" => (0, 0),
            "type" => match ROOTS.iter().position(|root| *root == self.name) {
                Some(position) => (1, position),
                None => (6, 0),
            },
            "scalar" => (2, 0),
            "enum" => (3, 0),
            "union" => (4, 0),
            "interface" => (5, 0),
            _ => (7, 0),
        }
    }

    fn print(&self, sdl: &str) -> String {
        let text = |(start, end): (usize, usize)| &sdl[start..end];
        let mut out = text(self.head).to_string();
        if self.union {
            let names: Vec<&str> = self.members.iter().map(|m| text(m.text)).collect();
            out.push(' ');
            out.push_str(&names.join(" | "));
        } else if !self.members.is_empty() {
            for (n, member) in self.members.iter().enumerate() {
                out.push('\n');
                if member.described && n > 0 {
                    out.push('\n');
                }
                out.push_str(text(member.text));
            }
        }
        out.push_str(text(self.tail));
        out
    }
}

/// Splits the document into definitions. A definition starts at depth 0 with a description
/// or a keyword that does not continue the one before (`extend type`, `union U = type`).
fn split_definitions(sdl: &str, tokens: &[Token]) -> Option<Vec<Definition>> {
    let text = |t: &Token| &sdl[t.start..t.end];
    let mut starts = Vec::new();
    let mut depth = 0usize;
    for (index, token) in tokens.iter().enumerate() {
        if depth == 0 {
            let previous = index.checked_sub(1).map(|p| &tokens[p]);
            let begins = match (token.kind, previous) {
                (_, None) => true,
                (Kind::String, Some(previous)) => previous.kind != Kind::String,
                (Kind::Name, Some(previous)) if KEYWORDS.contains(&text(token)) => {
                    previous.is(b'}')
                        || previous.is(b')')
                        || previous.kind == Kind::Name
                            && !KEYWORDS.contains(&text(previous))
                            && !matches!(text(previous), "implements" | "on")
                }
                _ => false,
            };
            if begins {
                starts.push(index);
            }
        }
        match token.kind {
            Kind::Punct(b'{' | b'(' | b'[') => depth += 1,
            Kind::Punct(b'}' | b')' | b']') => depth = depth.checked_sub(1)?,
            _ => {}
        }
    }
    if depth != 0 {
        return None;
    }
    let mut definitions = Vec::new();
    for (n, &start) in starts.iter().enumerate() {
        let end = starts.get(n + 1).copied().unwrap_or(tokens.len());
        definitions.push(definition(sdl, &tokens[start..end])?);
    }
    Some(definitions)
}

fn definition(sdl: &str, tokens: &[Token]) -> Option<Definition> {
    let text = |t: &Token| &sdl[t.start..t.end];
    let first = tokens.first()?;
    let last = tokens.last()?;
    let mut rest = tokens.iter().skip_while(|t| t.kind == Kind::String);
    let mut keyword = rest.next().filter(|t| t.kind == Kind::Name)?;
    let extend = text(keyword) == "extend";
    if extend {
        keyword = rest.next()?;
    }
    let keyword = text(keyword).to_string();
    if !KEYWORDS.contains(&keyword.as_str()) {
        return None;
    }
    let name = match keyword.as_str() {
        "schema" => String::new(),
        "directive" => format!("@{}", text(rest.nth(1)?)),
        _ => text(rest.next().filter(|t| t.kind == Kind::Name)?).to_string(),
    };
    let whole = Definition {
        keyword,
        extend,
        name,
        head: (first.start, last.end),
        members: Vec::new(),
        tail: (last.end, last.end),
        union: false,
    };
    if whole.keyword == "union" {
        return Some(union(sdl, tokens, whole));
    }
    // The body: the first `{` at depth 0 and the `}` that ends the definition.
    let mut depth = 0usize;
    let mut open = None;
    for (index, token) in tokens.iter().enumerate() {
        match token.kind {
            Kind::Punct(b'{') if depth == 0 => {
                open = Some(index);
                break;
            }
            Kind::Punct(b'(' | b'[') => depth += 1,
            Kind::Punct(b')' | b']') => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    let Some(open) = open else {
        return Some(whole);
    };
    if !last.is(b'}') || open + 1 >= tokens.len() {
        return None;
    }
    let body = &tokens[open + 1..tokens.len() - 1];
    let members = members(sdl, body, &tokens[open]);
    let tail_start = members.last().map_or(tokens[open].end, |m| m.text.1);
    Some(Definition {
        head: (first.start, tokens[open].end),
        tail: (tail_start, last.end),
        members,
        ..whole
    })
}

/// `union U = A | B`: its members are the names after `=`.
fn union(sdl: &str, tokens: &[Token], whole: Definition) -> Definition {
    let Some(equals) = tokens.iter().position(|t| t.is(b'=')) else {
        return whole;
    };
    let members = tokens[equals + 1..]
        .iter()
        .filter(|t| t.kind == Kind::Name)
        .map(|t| Member {
            name: sdl[t.start..t.end].to_string(),
            text: (t.start, t.end),
            references: vec![sdl[t.start..t.end].to_string()],
            described: false,
        })
        .collect();
    Definition {
        head: (whole.head.0, tokens[equals].end),
        tail: (whole.head.1, whole.head.1),
        members,
        union: true,
        ..whole
    }
}

/// The members of a body (`tokens` between its braces). A member starts at depth 0 with a
/// description, or with a name that is not part of the member before: not a type (after `:`),
/// a directive (after `@`) or a default value (after `=`), and not the name a description
/// introduces.
fn members(sdl: &str, tokens: &[Token], open: &Token) -> Vec<Member> {
    let text = |t: &Token| &sdl[t.start..t.end];
    // (first token, has a name yet)
    let mut starts: Vec<(usize, Option<usize>)> = Vec::new();
    let mut depth = 0usize;
    for (index, token) in tokens.iter().enumerate() {
        let previous = index.checked_sub(1).map_or(open, |p| &tokens[p]);
        let described = starts.last().is_some_and(|(_, name)| name.is_none());
        if depth == 0 {
            let after_value = matches!(
                previous.kind,
                Kind::Punct(b':' | b'@' | b'=' | b'[' | b'|' | b'&')
            );
            match token.kind {
                Kind::String if !after_value && previous.kind != Kind::String => {
                    starts.push((index, None));
                }
                Kind::Name if !after_value && !described => starts.push((index, Some(index))),
                Kind::Name if described => {
                    if let Some(current) = starts.last_mut() {
                        current.1 = Some(index);
                    }
                }
                _ => {}
            }
        }
        match token.kind {
            Kind::Punct(b'{' | b'(' | b'[') => depth += 1,
            Kind::Punct(b'}' | b')' | b']') => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    let mut members = Vec::new();
    for (n, &(first, name)) in starts.iter().enumerate() {
        let end = starts.get(n + 1).map_or(tokens.len(), |next| next.0);
        let own = &tokens[first..end];
        let Some(last) = own.last() else { continue };
        // From the start of its line, for its indentation, but never into the token before.
        let floor = first.checked_sub(1).map_or(open.end, |p| tokens[p].end);
        let line_start = sdl[..tokens[first].start].rfind('\n').map_or(0, |i| i + 1);
        let references = own
            .windows(2)
            .filter(|pair| (pair[0].is(b':') || pair[0].is(b'[')) && pair[1].kind == Kind::Name)
            .map(|pair| text(&pair[1]).to_string())
            .collect();
        members.push(Member {
            name: name.map_or_else(String::new, |i| text(&tokens[i]).to_string()),
            text: (line_start.max(floor), last.end),
            references,
            described: tokens[first].kind == Kind::String,
        });
    }
    members
}

/// The keyword and name of each definition, in the document's order.
#[cfg(test)]
fn order(sdl: &str) -> Vec<String> {
    let tokens = tokenize(sdl);
    split_definitions(sdl, &tokens)
        .unwrap()
        .iter()
        .map(|d| format!("{} {}", d.keyword, d.name))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What Directus 10.13.1 serves for `articles` (with an m2o `map` to the id map) and the
    /// tool's `sync_id_map`, cut down to one field of each kind; the id-map collection was
    /// created first, so its root fields come first.
    const SERVED: &str = r#"type Query {
  sync_id_map(filter: sync_id_map_filter, sort: [String], limit: Int, offset: Int, page: Int, search: String): [sync_id_map!]!
  sync_id_map_by_id(id: ID!, version: String): sync_id_map
  sync_id_map_aggregated(groupBy: [String], filter: sync_id_map_filter, limit: Int, offset: Int, page: Int, search: String, sort: [String]): [sync_id_map_aggregated!]!
  sync_id_map_by_version(version: String!, id: ID!): version_sync_id_map
  articles(filter: articles_filter, sort: [String], limit: Int, offset: Int, page: Int, search: String): [articles!]!
  articles_by_id(id: ID!, version: String): articles
}

type Mutation {
  create_sync_id_map_items(filter: sync_id_map_filter, sort: [String], limit: Int, offset: Int, page: Int, search: String, data: [create_sync_id_map_input!]): [sync_id_map!]!
  create_sync_id_map_item(data: create_sync_id_map_input!): sync_id_map
  create_articles_item(data: create_articles_input!): articles
  update_sync_id_map_items(filter: sync_id_map_filter, sort: [String], limit: Int, offset: Int, page: Int, search: String, ids: [ID]!, data: update_sync_id_map_input!): [sync_id_map!]!
  update_sync_id_map_batch(filter: sync_id_map_filter, sort: [String], limit: Int, offset: Int, page: Int, search: String, data: [update_sync_id_map_input!]): [sync_id_map!]!
  update_sync_id_map_item(id: ID!, data: update_sync_id_map_input!): sync_id_map
  delete_sync_id_map_items(ids: [ID]!): delete_many
  delete_sync_id_map_item(id: ID!): delete_one
  delete_articles_item(id: ID!): delete_one
}

type Subscription {
  sync_id_map_mutated(event: EventEnum): sync_id_map_mutated
  articles_mutated(event: EventEnum): articles_mutated
}

"""ISO8601 Date values"""
scalar Date

enum EventEnum {
  create
  update
  delete
}

union articles_ref_union = sync_id_map | authors

type articles {
  """Primary key"""
  id: ID!
  title: String
  map: sync_id_map
  ref: articles_ref_union
  published_at: Date

  """
  When it was
  published, roughly
  """
  published_at_func: datetime_functions
}

type articles_mutated {
  key: ID!
  event: EventEnum
  data: articles
}

type sync_id_map {
  id: ID!
  table: String!
  created_at_func: datetime_functions
}

type sync_id_map_aggregated {
  countAll: Int
  count: sync_id_map_aggregated_count
}

type sync_id_map_aggregated_count {
  id: Int
}

type sync_id_map_mutated {
  key: ID!
  event: EventEnum
  data: sync_id_map
}

""""""
type version_sync_id_map {
  id: ID
}

input articles_filter {
  id: string_filter_operators
  map: sync_id_map_filter
  _and: [articles_filter]
  _or: [articles_filter]
}

input create_sync_id_map_input {
  id: ID
  table: String! = "a \"quoted\" {brace"
}

input sync_id_map_filter {
  id: number_filter_operators
  _and: [sync_id_map_filter]
}

input update_sync_id_map_input {
  id: ID
}"#;

    #[test]
    fn hidden_collections_leave_no_trace_and_fields_are_sorted() {
        let out = normalize(SERVED, &["sync_id_map", "directus_sync_id_map"]).unwrap();
        insta::assert_snapshot!(out, @r#"
        type Query {
          articles(filter: articles_filter, sort: [String], limit: Int, offset: Int, page: Int, search: String): [articles!]!
          articles_by_id(id: ID!, version: String): articles
        }

        type Mutation {
          create_articles_item(data: create_articles_input!): articles
          delete_articles_item(id: ID!): delete_one
        }

        type Subscription {
          articles_mutated(event: EventEnum): articles_mutated
        }

        """ISO8601 Date values"""
        scalar Date

        enum EventEnum {
          create
          update
          delete
        }

        union articles_ref_union = authors

        type articles {
          """Primary key"""
          id: ID!
          published_at: Date

          """
          When it was
          published, roughly
          """
          published_at_func: datetime_functions
          ref: articles_ref_union
          title: String
        }

        type articles_mutated {
          data: articles
          event: EventEnum
          key: ID!
        }

        input articles_filter {
          _and: [articles_filter]
          _or: [articles_filter]
          id: string_filter_operators
        }
        "#);
        assert!(!out.contains("sync_id_map"));
    }

    #[test]
    fn normalizing_twice_changes_nothing() {
        let once = normalize(SERVED, &["sync_id_map"]).unwrap();
        assert_eq!(normalize(&once, &["sync_id_map"]).unwrap(), once);
        // Without hidden collections only the order changes: every line is kept.
        let all = normalize(SERVED, &[]).unwrap();
        let mut lines: Vec<&str> = all.lines().collect();
        let mut served: Vec<&str> = SERVED.lines().collect();
        lines.sort();
        served.sort();
        assert_eq!(lines, served);
    }

    #[test]
    fn the_order_of_creation_does_not_show() {
        let one = "type Query {\n  b: Int\n  a: Int\n}\n\ntype b {\n  y: Int\n  x: Int\n}\n\ntype a {\n  x: Int\n}";
        let other = "type a {\n  x: Int\n}\n\ntype Query {\n  a: Int\n  b: Int\n}\n\ntype b {\n  x: Int\n  y: Int\n}";
        assert_eq!(normalize(one, &[]), normalize(other, &[]));
        assert_eq!(
            normalize(one, &[]).unwrap(),
            "type Query {\n  a: Int\n  b: Int\n}\n\ntype a {\n  x: Int\n}\n\ntype b {\n  x: Int\n  y: Int\n}"
        );
    }

    #[test]
    fn definitions_are_split_where_a_new_one_starts() {
        let sdl = "directive @cache(ttl: Int) on FIELD_DEFINITION | OBJECT\n\nscalar JSON @specifiedBy(url: \"https://x\")\n\"\"\"A type\"\"\"\ntype union {\n  a: Int\n}\nextend type union {\n  b: Int\n}\nunion U = type | union";
        assert_eq!(
            order(sdl),
            [
                "directive @cache",
                "scalar JSON",
                "type union",
                "type union",
                "union U"
            ]
        );
    }

    #[test]
    fn text_that_is_not_sdl_is_refused() {
        assert_eq!(normalize("type Query {\n  a: Int\n", &[]), None);
        assert_eq!(normalize("{\"data\": 1}", &[]), None);
        assert_eq!(normalize("", &[]), Some(String::new()));
    }
}
