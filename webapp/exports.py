"""Moved to `webapp.outputs` (the format registry and its writers); kept only so that
modules still importing `webapp.exports` keep working until they import
`webapp.outputs.wording`, `.markdown`, `.csv` or `.jsonout` themselves."""

from webapp.outputs.csv import GROUP_HEADER as CSV_HEADER
from webapp.outputs.csv import csv_cell, to_csv
from webapp.outputs.dot import dot_string, to_dot
from webapp.outputs.jsonout import to_json
from webapp.outputs.markdown import md, md_table, to_markdown
from webapp.outputs.wording import (
    format_cidrs,
    format_ports,
    format_rule_ref,
    format_source,
    is_default_allow,
    node_index,
    node_kind,
    node_title,
    one_line,
    visible,
)

__all__ = [
    "CSV_HEADER", "csv_cell", "dot_string", "format_cidrs", "format_ports", "format_rule_ref",
    "format_source", "is_default_allow", "md", "md_table", "node_index", "node_kind",
    "node_title", "one_line", "to_csv", "to_dot", "to_json", "to_markdown", "visible",
]
