"""How every output spells ports, nodes, groups, rules and hidden characters.

One spelling each, so that a CSV cell, a Markdown table and a DOT label say
the same thing: `all` when a flow is not restricted at all, `TCP all ports`
when every port of one protocol is allowed, `TCP 3306; UDP 53` otherwise;
`ns/name` for a node; `ns/policy ingress[0] (file:line)` for a rule, and with
cluster-wide policies one chain per direction through the tiers ("Admin
ClusterNetworkPolicy/x priority 10 ingress[0] 'pass-monitoring' Pass (file:line)
→ NetworkPolicy ns/p ingress[1] allows (file:line)"; a rule in words is
`webapp.core.explain.rule_words`, which `query` answers use too) and "denied
by …" for the denials. Uploaded
text is shown with the characters `webapp.core.text.is_hidden` hides spelled
out: `\\u202e` in text files, `<U+202E>` on web pages (the `visible` filter).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from webapp.core.explain import rule_words
from webapp.core.text import is_hidden

ALL_TRAFFIC = "all"
ALL_PORTS = "all ports"
LINE_BREAKS = ("\r\n", "\r", "\n", "\v", "\f", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029")
CIDRS_SHOWN = 4
MEMBERS_SHOWN = 3


# --- hidden characters -------------------------------------------------------------


def visible(text: Any, keep: str = "") -> str:
    """`text` as a string with hidden characters spelled out (`\\u202e`, `\\x1b`).

    Characters in `keep` are left alone (CSV keeps tabs and line breaks, which
    its quoting handles).
    """
    string = "" if text is None else str(text)
    if string.isprintable():  # the common case: no C* or Z* character but plain spaces
        return string
    out = []
    for ch in string:
        if ch in keep or not is_hidden(ch):
            out.append(ch)
        elif ord(ch) < 0x100:
            out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(f"\\u{ord(ch):04x}")
    return "".join(out)


def marked(text: Any) -> str:
    """`text` for a web page: each hidden character as a visible `<U+202E>` mark.

    The page's `visible` macro is this function registered as a Jinja filter,
    so pages hide exactly what `is_hidden` hides; autoescaping happens after.
    """
    string = "" if text is None else str(text)
    if string.isprintable():
        return string
    return "".join(f"<U+{ord(c):04X}>" if is_hidden(c) else c for c in string)


def one_line(text: Any) -> str:
    """`text` on one line: every kind of line break becomes a space, then `visible`."""
    text = "" if text is None else str(text)
    for brk in LINE_BREAKS:
        text = text.replace(brk, " ")
    return visible(text, keep="\t").replace("\t", " ")


# --- ports and rules --------------------------------------------------------------


def format_ports(flow: Mapping[str, Any]) -> str:
    """`TCP 3306; UDP 53; TCP 8000-8080`, `TCP all ports`, or `all` when nothing restricts
    the flow."""
    if flow.get("allTraffic"):
        return ALL_TRAFFIC
    parts = []
    for p in flow.get("ports") or ():
        lo, hi = p.get("from"), p.get("to")
        if (lo, hi) == (1, 65535):
            span = ALL_PORTS
        else:
            span = f"{lo}" if lo == hi or hi is None else f"{lo}-{hi}"
        parts.append(f"{p.get('protocol', '')} {span}")
    return "; ".join(parts)


def format_source(source: Mapping[str, Any] | None) -> str:
    """`file:line`, `file`, or empty when nothing is known."""
    if not source or not source.get("file"):
        return ""
    line = source.get("line")
    return f"{source['file']}:{line}" if line else str(source["file"])


def format_rule_ref(ref: Mapping[str, Any]) -> str:
    """`ns/policy ingress[0] (file:line)`: the RuleRef of CONTRACT §3 in one phrase."""
    text = f"{ref.get('policy', '')} {ref.get('direction', '')}[{ref.get('rule', '')}]"
    where = format_source(ref.get("source"))
    return f"{text} ({where})" if where else text


def format_tier_ref(ref: Mapping[str, Any]) -> str:
    """A rule of a document with cluster-wide policies, with its tier:
    `Admin ClusterNetworkPolicy/x priority 10 ingress[0] 'pass-monitoring' Pass (file:line)`,
    `NetworkPolicy ns/p ingress[1] allows (file:line)`."""
    tier = ref.get("tier")
    text = rule_words(
        str(ref.get("policy", "")),
        str(ref.get("direction", "")),
        ref.get("rule", ""),
        None if tier is None else str(tier),
        ref.get("priority"),
        ref.get("name"),
        None if ref.get("action") is None else str(ref.get("action")),
    )
    if tier is None:
        text += " allows"
    where = format_source(ref.get("source"))
    return f"{text} ({where})" if where else text


def format_chain(refs: Sequence[Mapping[str, Any]]) -> str:
    """The rules that decided one direction, in tier order: `→` where a Pass hands over to
    the next tier ("Admin … Pass → NetworkPolicy ns/p ingress[1] allows"), `;` between
    decisions of different ports; a final Pass goes on to the default."""
    out = ""
    for i, ref in enumerate(refs):
        if i:
            out += " → " if refs[i - 1].get("action") == "Pass" else "; "
        out += format_tier_ref(ref)
    if refs and refs[-1].get("action") == "Pass":
        out += " → allowed by default"
    return out


def has_tiers(refs: Iterable[Mapping[str, Any]]) -> bool:
    return any("tier" in r for r in refs)


def format_rules(refs: Iterable[Mapping[str, Any]], tiers: bool = False) -> str:
    """The rules of one direction of a flow: as a chain through the tiers in a document with
    cluster-wide policies (`tiers`, or a cluster rule among them), else
    `ns/policy ingress[0] (file:line); …` as before there were tiers."""
    listed = list(refs)
    if tiers or has_tiers(listed):
        return format_chain(listed)
    return "; ".join(format_rule_ref(r) for r in listed)


def format_allowed_by(flow: Mapping[str, Any], tiers: bool = False) -> str:
    """What allows a flow, both directions: `egress: …; ingress: …` through the tiers in a
    document with cluster-wide policies, else the rules as before; empty when no rule does."""
    egress, ingress = list(flow.get("egress") or ()), list(flow.get("ingress") or ())
    if not (tiers or has_tiers(egress + ingress)):
        return "; ".join(format_rule_ref(r) for r in egress + ingress)
    return "; ".join(
        f"{direction}: {format_chain(refs)}"
        for direction, refs in (("egress", egress), ("ingress", ingress))
        if refs
    )


DENIED_BY_CLUSTER = "denied by an Admin or Baseline rule"
"""What a denial of the document is, as opposed to a pair no NetworkPolicy rule allows."""
NOT_ALLOWED = "not allowed by any NetworkPolicy"


def format_denial(denial: Mapping[str, Any]) -> str:
    """`denied by Admin ClusterNetworkPolicy/x priority 20 ingress[0] 'deny' Deny (file:line)`,
    with the Admin Pass that handed the ports over to a Baseline Deny before it."""
    refs = [*(denial.get("via") or ()), denial.get("rule") or {}]
    return "denied by " + format_chain(refs)


def is_default_allow(flow: Mapping[str, Any]) -> bool:
    """Allowed only because neither side is isolated (no rule to name)."""
    if "defaultAllow" in flow:
        return bool(flow["defaultAllow"])
    return not flow.get("egress") and not flow.get("ingress")


# --- nodes --------------------------------------------------------------------------


def format_cidrs(node: Mapping[str, Any], limit: int = CIDRS_SHOWN) -> str:
    """An ipblock's first CIDRs, `(+N more)` for the rest: its name already sums them up."""
    cidrs = [str(c) for c in node.get("cidrs") or ()]
    shown = ", ".join(cidrs[:limit])
    return shown + (f" (+{len(cidrs) - limit} more)" if len(cidrs) > limit else "")


def node_index(doc: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    return {str(n.get("id")): n for n in doc.get("nodes") or ()}


def node_title(node: Mapping[str, Any] | None, fallback: str = "") -> str:
    """`namespace/name`, or the bare name for nodes outside namespaces.

    An inferred node's name already starts with its namespace (`default: name=mysql`).
    """
    if not node:
        return fallback
    if node.get("type") == "inferred" and node.get("name"):
        return str(node["name"])
    name = str(node.get("name") or node.get("id") or fallback)
    namespace = node.get("namespace")
    return f"{namespace}/{name}" if namespace else name


def node_kind(node: Mapping[str, Any]) -> str:
    if node.get("type") == "workload":
        return str(node.get("kind") or "workload")
    return str(node.get("type") or "")


def plural(count: int, word: str) -> str:
    return f"{count:,} {word}" if count == 1 else f"{count:,} {word}s"


# --- groups -------------------------------------------------------------------------


class Groups:
    """The groups of a document and how to name them in a few words.

    Version 1 documents and `--pairs` ones have no groups: there every node
    is a group of its own, whose id is the node's (as CONTRACT §3 has it).
    """

    def __init__(self, doc: Mapping[str, Any]) -> None:
        self.nodes = node_index(doc)
        listed = doc.get("groups")
        if listed:
            self.members: dict[str, Sequence[str]] = {
                str(g["id"]): [str(n) for n in g.get("nodes") or ()] for g in listed
            }
        else:
            self.members = {node_id: (node_id,) for node_id in self.nodes}
        self._workloads = Counter(
            str(n.get("namespace")) for n in self.nodes.values() if n.get("type") == "workload"
        )

    def of(self, group_id: str) -> Sequence[str]:
        """Member node ids; an unknown id (a hand-made document) stands for itself."""
        return self.members.get(group_id, (group_id,))

    def size(self, group_id: str) -> int:
        return len(self.of(group_id))

    def whole_namespaces(self, group_id: str) -> list[str]:
        """The namespaces whose every workload is in the group, when that is all it holds."""
        members = [self.nodes.get(m) for m in self.of(group_id)]
        if len(members) < 2 or any(not n or n.get("type") != "workload" for n in members):
            return []
        counts = Counter(str(n.get("namespace")) for n in members if n)
        if any(self._workloads[ns] != count for ns, count in counts.items()):
            return []
        return sorted(counts)

    def describe(self, group_id: str, limit: int = MEMBERS_SHOWN) -> str:
        """`default/mysql`; `every workload of namespaces a, b`; `a/x, a/y, a/z +4 more`."""
        members = self.of(group_id)
        if len(members) == 1:
            return node_title(self.nodes.get(members[0]), members[0])
        namespaces = self.whole_namespaces(group_id)
        if namespaces:
            word = "namespace" if len(namespaces) == 1 else "namespaces"
            return f"every workload of {word} {', '.join(namespaces)}"
        names = [node_title(self.nodes.get(m), m) for m in members[:limit]]
        more = f" +{len(members) - limit} more" if len(members) > limit else ""
        return ", ".join(names) + more


def denial_rows(doc: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The document's denials in words, one per denial: `source`, `target` (groups described),
    `pairs`, `ports`, `direction` and `deniedBy` (`format_denial`)."""
    groups = Groups(doc)
    return [
        {
            "source": groups.describe(str(d.get("source", ""))),
            "target": groups.describe(str(d.get("target", ""))),
            "pairs": int(d.get("pairs") or 0),
            "ports": format_ports({"ports": d.get("ports") or ()}),
            "direction": str(d.get("direction", "")),
            "deniedBy": format_denial(d),
        }
        for d in doc.get("denials") or ()
    ]
