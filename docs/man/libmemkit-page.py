#!/usr/bin/env python3
"""libmemkit-page.py — writes libmemkit(3) from its template, the public
header and the option table.

    libmemkit-page.py TEMPLATE MEMKIT_H MEMKIT VERSION OUT

FUNCTIONS comes from include/memkit.h: one subsection per "/* ---- name"
banner, then the header's comments as text and its declarations as code,
in the header's order. ENVIRONMENT comes from `MEMKIT --help-env=markdown`,
which prints the option table (shim/options.def) that parsing and
`memkit --help-env` use too. So the page names every function and option
the sources do, as they change."""

import datetime
import os
import re
import subprocess
import sys


# ---- roff ------------------------------------------------------------------

def esc(text):
    """Text for a roff line: backslashes escaped, a leading control
    character neutralised, options' dashes as minus signs."""
    text = text.replace("\\", "\\e")
    text = re.sub(r"(^|[\s(\[])(-+)(?=[\w-])",
                  lambda m: m.group(1) + "\\-" * len(m.group(2)), text)
    if text.startswith((".", "'")):
        text = "\\&" + text
    return text


def esc_code(text):
    """A line of code in a no-fill block: every dash a minus sign."""
    text = text.replace("\\", "\\e").replace("-", "\\-")
    if text.startswith((".", "'")):
        text = "\\&" + text
    return text


def inline_code(text):
    """Markdown's `code` as bold."""
    return re.sub(r"`([^`]+)`", r"\\fB\1\\fR", text)


# ---- the header --------------------------------------------------------------

BANNER = re.compile(r"^/\* -{3,} (.+?) -*\s*(\*/)?\s*$")


def comment_lines(block):
    """The text lines of a /* ... */ block, markers removed, indentation
    beyond the " * " kept."""
    out = []
    for i, line in enumerate(block):
        line = line.rstrip()
        if i == 0:
            line = re.sub(r"^\s*/\*\s?", "", line)
        else:
            line = re.sub(r"^\s*\*(?!/) ?", "", line)
        line = re.sub(r"\s*\*/\s*$", "", line)
        out.append(line)
    while out and not out[-1].strip():
        out.pop()
    while out and not out[0].strip():
        out.pop(0)
    return out


def split_header(text):
    """The header as items in order: ("section", title, intro lines),
    ("comment", lines), ("code", lines). Preprocessor lines and what
    precedes the first banner are left out; the file's opening comment is
    returned apart, as the conventions."""
    lines = text.split("\n")
    items, conventions = [], []
    i, seen_banner, first_comment = 0, False, True
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if stripped.startswith("/*"):
            block = [line]
            while "*/" not in lines[i] and i + 1 < len(lines):
                i += 1
                block.append(lines[i])
            i += 1
            m = BANNER.match(block[0].strip())
            if m:
                seen_banner = True
                items.append(("section", m.group(1).strip(), comment_lines([""] + block[1:])))
            elif first_comment and not seen_banner:
                conventions = comment_lines(block)[1:]   # after "memkit.h — ..."
            elif seen_banner:
                items.append(("comment", comment_lines(block)))
            first_comment = False
            continue
        if stripped.startswith("#"):
            # Preprocessor: a block of #if ... #endif is the header's own
            # machinery (include guard, C++ linkage, the probe macro's
            # compiler variants); a simple #define of a public constant is
            # shown.
            if re.match(r"#\s*ifndef\s+MEMKIT_H\b", stripped):
                i += 1          # the include guard: its contents are the header
                continue
            if re.match(r"#\s*if", stripped):
                depth = 0
                while i < len(lines):
                    s = lines[i].strip()
                    if re.match(r"#\s*if", s):
                        depth += 1
                    elif re.match(r"#\s*endif", s):
                        depth -= 1
                    i += 1
                    if depth == 0:
                        break
                continue
            m = re.match(r"#\s*define\s+(MEMKIT_[A-Z0-9_]*[A-Z0-9])\s+(\S.*)$", stripped)
            if m and seen_banner and not stripped.endswith("\\"):
                items.append(("code", [stripped]))
            while lines[i].rstrip().endswith("\\") and i + 1 < len(lines):
                i += 1
            i += 1
            continue
        if not stripped or not seen_banner:
            i += 1
            continue
        # A declaration: up to the ';' that ends it outside braces.
        decl, depth = [], 0
        while i < len(lines):
            decl.append(lines[i])
            depth += lines[i].count("{") - lines[i].count("}")
            ends = lines[i].rstrip().endswith(";") or lines[i].rstrip().endswith("}")
            i += 1
            if depth <= 0 and ends:
                break
        items.append(("code", decl))
    return conventions, items


def declared_name(decl):
    """The name a declaration declares (function, typedef or struct)."""
    joined = " ".join(l.split("/*")[0] for l in decl)
    m = re.search(r"(\w+)\s*\(", joined) if "MEMKIT_API" in joined else None
    if m:
        return m.group(1)
    m = re.search(r"(\w+)\s*;\s*$", joined.strip())
    if m:
        return m.group(1)
    m = re.match(r"\s*(?:static\s+inline\s+)?(?:struct|enum|union)?\s*\w+\s*\**\s*(\w+)", joined)
    return m.group(1) if m else ""


def format_prototype(decl):
    """A function prototype on as few lines as fit 72 columns, its name in
    bold, MEMKIT_API dropped."""
    joined = re.sub(r"\s+", " ", " ".join(decl)).replace("MEMKIT_API ", "").strip()
    m = re.match(r"(.*?)(\w+)\s*\((.*)\)\s*;$", joined)
    if not m:
        return [esc_code(joined)]
    ret, name, args = m.group(1).strip(), m.group(2), m.group(3)
    head = ret + (" " if not ret.endswith("*") else "") + name + "("
    params = [p.strip() for p in args.split(",")]
    lines, cur = [], head
    for k, p in enumerate(params):
        piece = p + ("," if k + 1 < len(params) else ");")
        if cur != head and len(cur) + 1 + len(piece) > 72:
            lines.append(cur)
            cur = " " * len(head) + piece
        else:
            cur += ("" if cur == head else " ") + piece
    lines.append(cur)
    out = [esc_code(l) for l in lines]
    bold = esc_code(name)
    out[0] = out[0].replace(bold + "(", "\\fB" + bold + "\\fR(", 1)
    return out


def render_text(lines):
    """Comment lines as roff: ordinary lines filled; lines indented under
    the text (a list, a table) kept as they are."""
    out, in_nf = [], False
    for line in lines:
        if not line.strip():
            if in_nf:
                out += [".fi", ".RE"]
                in_nf = False
            out.append(".PP")
            continue
        pre = line.startswith("  ")
        if pre and not in_nf:
            out += [".RS 2", ".nf"]
            in_nf = True
        elif not pre and in_nf:
            out += [".fi", ".RE"]
            in_nf = False
        out.append(esc_code(line.rstrip()) if pre else inline_code(esc(line.strip())))
    if in_nf:
        out += [".fi", ".RE"]
    return out


def code_lines(decl):
    """A declaration as no-fill lines: prototypes reflowed, the rest
    dedented as written."""
    if "MEMKIT_API" in " ".join(decl):
        return format_prototype(decl)
    indent = min((len(l) - len(l.lstrip()) for l in decl if l.strip()), default=0)
    return [esc_code(l[indent:].rstrip()) for l in decl]


def functions_section(items):
    """The header's sections in its order: a comment as text, then the
    declarations under it as one block of code."""
    out, in_code = [], False

    def end_code():
        nonlocal in_code
        if in_code:
            out.append(".fi")
            in_code = False

    for item in items:
        kind = item[0]
        if kind == "section":
            end_code()
            out.append(".SS " + esc(item[1][:1].upper() + item[1][1:]))
            if item[2]:
                out += [".PP"] + render_text(item[2])
        elif kind == "comment":
            end_code()
            out += [".PP"] + render_text(item[1])
        else:
            if declared_name(item[1]).endswith("_"):
                continue     # the header's internals (memkit_probe_scope_)
            if not in_code:
                out += [".PP", ".nf"]
                in_code = True
            out += code_lines(item[1])
    end_code()
    return out


# ---- the options ---------------------------------------------------------------

def split_cells(row):
    """The cells of a markdown table row, with \\| unescaped."""
    cells, cur, k = [], "", 0
    body = row.strip()[1:-1]
    while k < len(body):
        c = body[k]
        if c == "\\" and k + 1 < len(body) and body[k + 1] == "|":
            cur += "|"
            k += 2
            continue
        if c == "|":
            cells.append(cur.strip())
            cur = ""
        else:
            cur += c
        k += 1
    cells.append(cur.strip())
    return cells


def options_section(markdown):
    out, count = [], 0
    for row in markdown.split("\n"):
        if not row.startswith("| `MEMKIT_"):
            continue
        name, default, meaning = split_cells(row)[:3]
        name = name.strip("`")
        help_text, _, value = meaning.rpartition(". Value: ")
        if not help_text:
            help_text, value = meaning, ""
        if default.startswith("`"):
            default = "\\fB" + esc(default.strip("`")) + "\\fR"
        out += [".TP", ".B " + name, inline_code(esc(help_text)) + "."]
        tail = "Default: " + default
        if value:
            tail += "; value: " + inline_code(esc(value))
        out += [".br", tail + "."]
        count += 1
    if count == 0:
        sys.exit("libmemkit-page.py: no MEMKIT_ option in the output of --help-env=markdown")
    return out


# ---- main ----------------------------------------------------------------------

def main():
    if len(sys.argv) != 6:
        sys.exit("usage: libmemkit-page.py TEMPLATE MEMKIT_H MEMKIT VERSION OUT")
    template, header, memkit, version, out = sys.argv[1:]
    with open(template, encoding="utf-8") as f:
        page = f.read()
    with open(header, encoding="utf-8") as f:
        conventions, items = split_header(f.read())
    markdown = subprocess.run([os.path.abspath(memkit), "--help-env=markdown"], check=True,
                              capture_output=True, text=True, env={**os.environ, "LC_ALL": "C"}).stdout
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    when = datetime.datetime.fromtimestamp(int(epoch), datetime.timezone.utc) if epoch \
        else datetime.datetime.now(datetime.timezone.utc)
    parts = {
        "@DATE@": when.strftime("%Y-%m-%d"),
        "@VERSION@": version,
        "@CONVENTIONS@": "\n".join([".PP"] + render_text(conventions)) if conventions else "",
        "@FUNCTIONS@": "\n".join(functions_section(items)),
        "@OPTIONS@": "\n".join(options_section(markdown)),
    }
    for key, value in parts.items():
        page = page.replace(key, value)
    with open(out + ".tmp", "w", encoding="utf-8") as f:
        f.write(page)
    os.replace(out + ".tmp", out)


if __name__ == "__main__":
    main()
