//! Writing one XForm: the instance, the binds, the itext translations and the body, built
//! together so that every question has its node, its bind and its labels in three languages.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use hamroh_domain::instrument::Texts;
use hamroh_domain::org::Lang;
use sha2::{Digest, Sha256};

use super::XForm;

/// The form's languages as ODK names them ("Name (code)"), Tajik first, the default.
pub(super) const LANGUAGES: [(Lang, &str); 3] =
    [(Lang::Tg, "Тоҷикӣ (tg)"), (Lang::Ru, "Русский (ru)"), (Lang::En, "English (en)")];

/// The root element of every instance.
pub(super) const ROOT: &str = "data";

/// Escapes text for an XML attribute or element.
pub(super) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// An XPath string literal.
pub(super) fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', ""))
}

#[derive(Debug, Default)]
struct Node {
    name: String,
    default: Option<String>,
    children: Vec<Node>,
}

impl Node {
    fn child(&mut self, path: &[String]) -> &mut Node {
        let Some((first, rest)) = path.split_first() else { return self };
        let at = match self.children.iter().position(|c| &c.name == first) {
            Some(at) => at,
            None => {
                self.children.push(Node { name: first.clone(), ..Node::default() });
                self.children.len() - 1
            }
        };
        self.children[at].child(rest)
    }

    fn write(&self, out: &mut String, attributes: &str) {
        if self.children.is_empty() {
            match &self.default {
                Some(v) => {
                    let _ = write!(out, "<{0}{attributes}>{1}</{0}>", self.name, escape(v));
                }
                None => {
                    let _ = write!(out, "<{}{attributes}/>", self.name);
                }
            }
            return;
        }
        let _ = write!(out, "<{}{attributes}>", self.name);
        for c in &self.children {
            c.write(out, "");
        }
        let _ = write!(out, "</{}>", self.name);
    }
}

/// A question's bind: its type and rules.
#[derive(Debug, Default, Clone)]
pub(super) struct Bind {
    /// `string`, `int`, `select1`, `select`, `dateTime`, `date`, `barcode`.
    pub kind: &'static str,
    pub required: bool,
    pub relevant: Option<String>,
    /// An XPath the answer must satisfy, and the message id shown when it does not.
    pub constraint: Option<(String, String)>,
    pub calculate: Option<String>,
    /// `jr:preload` and `jr:preloadParams`.
    pub preload: Option<(&'static str, &'static str)>,
    pub readonly: bool,
}

impl Bind {
    pub fn of(kind: &'static str) -> Self {
        Self { kind, ..Self::default() }
    }

    pub fn required(mut self, required: bool) -> Self {
        self.required = required;
        self
    }

    pub fn relevant(mut self, relevant: Option<String>) -> Self {
        self.relevant = relevant;
        self
    }
}

/// One choice of a select: its value and its label's itext id.
pub(super) struct Choice {
    pub value: String,
    pub label: String,
}

pub(super) struct FormBuilder {
    id: String,
    title: Texts,
    texts: BTreeMap<String, Texts>,
    instance: Node,
    binds: String,
    body: String,
    groups: Vec<String>,
}

impl FormBuilder {
    pub fn new(id: &str, title: Texts) -> Self {
        Self {
            id: id.to_owned(),
            title,
            texts: BTreeMap::new(),
            instance: Node { name: ROOT.to_owned(), ..Node::default() },
            binds: String::new(),
            body: String::new(),
            groups: Vec::new(),
        }
    }

    /// The absolute path of a node `name` in the current group.
    pub fn path(&self, name: &str) -> String {
        let mut path = format!("/{ROOT}");
        for g in &self.groups {
            path.push('/');
            path.push_str(g);
        }
        path.push('/');
        path.push_str(name);
        path
    }

    /// Registers an itext entry; the id is returned for a `jr:itext()` reference.
    pub fn text(&mut self, id: &str, texts: &Texts) -> String {
        self.texts.entry(id.to_owned()).or_insert_with(|| texts.clone());
        id.to_owned()
    }

    fn node(&mut self, name: &str, default: Option<&str>) -> String {
        let mut at: Vec<String> = self.groups.clone();
        at.push(name.to_owned());
        let node = self.instance.child(&at);
        node.default = default.map(str::to_owned);
        self.path(name)
    }

    fn bind(&mut self, path: &str, bind: &Bind) {
        let mut b = format!(r#"<bind nodeset="{path}" type="{}""#, bind.kind);
        if bind.required {
            b.push_str(r#" required="true()""#);
        }
        if let Some(r) = &bind.relevant {
            let _ = write!(b, r#" relevant="{}""#, escape(r));
        }
        if let Some((c, msg)) = &bind.constraint {
            let _ = write!(b, r#" constraint="{}" jr:constraintMsg="jr:itext('{msg}')""#, escape(c));
        }
        if let Some(c) = &bind.calculate {
            let _ = write!(b, r#" calculate="{}""#, escape(c));
        }
        if let Some((preload, params)) = bind.preload {
            let _ = write!(b, r#" jr:preload="{preload}" jr:preloadParams="{params}""#);
        }
        if bind.readonly {
            b.push_str(r#" readonly="true()""#);
        }
        b.push_str("/>");
        self.binds.push_str(&b);
    }

    fn label(&mut self, path: &str, label: &Texts) -> String {
        let id = self.text(&format!("{path}:label"), label);
        format!(r#"<label ref="jr:itext('{id}')"/>"#)
    }

    /// A node with no control: a calculation or a value the client fills in itself.
    pub fn hidden(&mut self, name: &str, default: Option<&str>, bind: &Bind) -> String {
        let path = self.node(name, default);
        self.bind(&path, bind);
        path
    }

    /// A typed (or scanned) answer.
    pub fn input(&mut self, name: &str, label: &Texts, bind: &Bind) -> String {
        let path = self.node(name, None);
        self.bind(&path, bind);
        let label = self.label(&path, label);
        let _ = write!(self.body, r#"<input ref="{path}">{label}</input>"#);
        path
    }

    /// A text shown to the interviewer, asking nothing (an ODK note: a read-only input).
    pub fn note(&mut self, name: &str, label: &Texts) {
        let path = self.node(name, None);
        self.bind(&path, &Bind { kind: "string", readonly: true, ..Bind::default() });
        let label = self.label(&path, label);
        let _ = write!(self.body, r#"<input ref="{path}">{label}</input>"#);
    }

    /// A choice of one (`select1`) or of several (`select`).
    pub fn select(
        &mut self,
        name: &str,
        label: &Texts,
        choices: &[Choice],
        bind: &Bind,
        default: Option<&str>,
    ) -> String {
        let path = self.node(name, default);
        self.bind(&path, bind);
        let label = self.label(&path, label);
        let tag = if bind.kind == "select" { "select" } else { "select1" };
        let _ = write!(self.body, r#"<{tag} ref="{path}">{label}"#);
        for c in choices {
            let _ = write!(
                self.body,
                r#"<item><label ref="jr:itext('{}')"/><value>{}</value></item>"#,
                c.label,
                escape(&c.value)
            );
        }
        let _ = write!(self.body, "</{tag}>");
        path
    }

    /// Opens a group; questions until [`FormBuilder::close_group`] are its children.
    pub fn open_group(&mut self, name: &str, label: &Texts, relevant: Option<String>) -> String {
        let path = self.node(name, None);
        if relevant.is_some() {
            self.bind(&path, &Bind::of("string").relevant(relevant));
        }
        let label = self.label(&path, label);
        let _ = write!(self.body, r#"<group ref="{path}">{label}"#);
        self.groups.push(name.to_owned());
        path
    }

    pub fn close_group(&mut self) {
        self.groups.pop();
        self.body.push_str("</group>");
    }

    /// The finished form. Its version is `<prefix>-<hash>`, the hash over everything else the
    /// form holds, so any change of wording or rules gives a new version.
    pub fn finish(mut self, version_prefix: &str) -> XForm {
        // Every instance ends with the instance id, which the client draws itself.
        let mut meta = Node { name: "meta".into(), ..Node::default() };
        meta.children.push(Node { name: "instanceID".into(), ..Node::default() });
        self.instance.children.push(meta);
        let instance_id = format!("/{ROOT}/meta/instanceID");
        self.bind(
            &instance_id,
            &Bind {
                kind: "string",
                readonly: true,
                calculate: Some("concat('uuid:', uuid())".into()),
                ..Bind::default()
            },
        );
        let mut itext = String::from("<itext>");
        for (lang, name) in LANGUAGES {
            let default = if lang == Lang::Tg { r#" default="true()""# } else { "" };
            let _ = write!(itext, r#"<translation lang="{name}"{default}>"#);
            for (id, texts) in &self.texts {
                let _ = write!(itext, r#"<text id="{}"><value>{}</value></text>"#, escape(id), escape(texts.get(lang)));
            }
            itext.push_str("</translation>");
        }
        itext.push_str("</itext>");
        let mut content = String::new();
        self.instance.write(&mut content, "");
        let digest = Sha256::digest(format!("{itext}{content}{}{}", self.binds, self.body).as_bytes());
        let version = format!("{version_prefix}-{}", &hex::encode(digest)[..10]);
        let mut instance = String::new();
        let attributes = format!(r#" id="{}" version="{}""#, escape(&self.id), escape(&version));
        self.instance.write(&mut instance, &attributes);
        let xml = format!(
            concat!(
                r#"<?xml version="1.0" encoding="UTF-8"?>"#,
                "\n",
                r#"<h:html xmlns="http://www.w3.org/2002/xforms" xmlns:h="http://www.w3.org/1999/xhtml" "#,
                r#"xmlns:ev="http://www.w3.org/2001/xml-events" xmlns:jr="http://openrosa.org/javarosa" "#,
                r#"xmlns:orx="http://openrosa.org/xforms" xmlns:odk="http://www.opendatakit.org/xforms" "#,
                r#"xmlns:xsd="http://www.w3.org/2001/XMLSchema">"#,
                "<h:head><h:title>{title}</h:title>",
                r#"<model odk:xforms-version="1.0.0">{itext}<instance>{instance}</instance>{binds}</model>"#,
                "</h:head><h:body>{body}</h:body></h:html>\n"
            ),
            title = escape(&self.title.en),
            itext = itext,
            instance = instance,
            binds = self.binds,
            body = self.body,
        );
        XForm { id: self.id, title: self.title, version, xml }
    }
}
