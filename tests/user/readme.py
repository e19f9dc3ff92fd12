"""Reads README.md's fenced code blocks and the `<!-- example: ... -->`
directives above them (the Development section of the README documents them).

A block's directives come from HTML comments on the lines right above its
fence (blank lines between are allowed): GitHub shows neither the comment nor
anything odd about the block. Several directives go in one comment separated
by ";", or in several comments.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

RUNNABLE = {
    "c": "c",
    "sh": "sh", "shell": "sh", "bash": "sh",
    "console": "console",
    "python": "python", "py": "python",
    "js": "js", "javascript": "js", "cjs": "js", "mjs": "js",
    "ts": "ts", "typescript": "ts",
}
DIRECTIVES = {"fragment", "skip", "file", "output", "setup", "continues", "exit", "lint"}

FENCE = re.compile(r"^(?P<indent>\s*)(?P<fence>`{3,}|~{3,})(?P<info>[^`]*)$")
COMMENT = re.compile(r"^\s*<!--\s*example:(?P<body>.*?)-->\s*$")
HEADING = re.compile(r"^(#{2,3})\s+(.*)$")


@dataclass
class Block:
    line: int                 # 1-based line of the opening fence
    section: str              # the nearest ## or ### heading
    info: str                 # the info string as written
    code: str
    directives: dict[str, str] = field(default_factory=dict)
    index: int = 0            # position among the section's blocks
    previous: "Block | None" = None   # for continues: the block it continues
    expected: "Block | None" = None   # the output block that follows

    @property
    def lang(self) -> str:
        word = self.info.split()[0].lower() if self.info.split() else ""
        return RUNNABLE.get(word, word)

    @property
    def runnable(self) -> bool:
        return (self.lang in RUNNABLE.values() and not {"fragment", "skip", "output"} &
                set(self.directives))

    @property
    def id(self) -> str:
        slug = re.sub(r"[^a-z0-9]+", "-", self.section.lower()).strip("-") or "top"
        return f"{slug}-{self.index}-{self.lang or 'text'}"

    def full_code(self) -> str:
        """The code run: with `continues`, the blocks it continues first."""
        parts = []
        b: Block | None = self
        while b is not None:
            parts.append(b.code)
            b = b.previous if "continues" in b.directives else None
        return "\n".join(reversed(parts))


class ReadmeError(Exception):
    pass


def parse_directives(text: str, where: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in text.split(";"))):
        name, _, value = part.partition(":")
        name = name.strip()
        if name not in DIRECTIVES:
            raise ReadmeError(f"{where}: unknown example directive {name!r} "
                              f"(known: {', '.join(sorted(DIRECTIVES))})")
        out[name] = value.strip()
    return out


def parse(path: Path) -> list[Block]:
    lines = path.read_text().splitlines()
    blocks: list[Block] = []
    section = ""
    pending: dict[str, str] = {}
    counts: dict[str, int] = {}
    i = 0
    while i < len(lines):
        line = lines[i]
        if m := HEADING.match(line):
            section = m.group(2).strip()
            pending = {}
        elif m := COMMENT.match(line):
            pending.update(parse_directives(m.group("body"), f"{path.name}:{i + 1}"))
        elif m := FENCE.match(line):
            indent, fence = m.group("indent"), m.group("fence")
            start = i + 1
            body = []
            i += 1
            while i < len(lines) and not (lines[i].strip().startswith(fence) and
                                          lines[i].strip().strip(fence[0]) == ""):
                text = lines[i]
                body.append(text[len(indent):] if text.startswith(indent) else text.lstrip())
                i += 1
            if i >= len(lines):
                raise ReadmeError(f"{path.name}:{start}: unclosed code fence")
            counts[section] = counts.get(section, 0) + 1
            blocks.append(Block(line=start, section=section, info=m.group("info").strip(),
                                code="\n".join(body) + "\n", directives=pending,
                                index=counts[section]))
            pending = {}
        elif line.strip():
            pending = {}
        i += 1
    link(blocks, path.name)
    return blocks


def link(blocks: list[Block], name: str) -> None:
    """Ties output blocks to the block they show, continued blocks to theirs."""
    last_run: Block | None = None
    last_by_lang: dict[str, Block] = {}
    for b in blocks:
        where = f"{name}:{b.line}"
        if "output" in b.directives:
            if last_run is None or last_run.expected is not None:
                raise ReadmeError(f"{where}: an output block must follow the block it shows")
            last_run.expected = b
            last_run = None
            continue
        if "continues" in b.directives:
            b.previous = last_by_lang.get(b.lang)
            if b.previous is None:
                raise ReadmeError(f"{where}: nothing to continue: no earlier {b.lang} block")
        if "skip" in b.directives and not b.directives["skip"]:
            raise ReadmeError(f"{where}: skip needs a reason (skip: why)")
        if b.lang in RUNNABLE.values():
            last_by_lang[b.lang] = b
        last_run = b if b.runnable else None


def match_output(expected: str, actual: str) -> bool:
    """Line by line, trailing spaces ignored; `...` alone on a line matches any
    number of lines, `...` within a line any text."""
    pattern = []
    for line in expected.rstrip("\n").splitlines():
        line = line.rstrip()
        if line == "...":
            pattern.append(r"(?:[^\n]*\n)*?")
        else:
            pattern.append("[^\n]*".join(re.escape(p) for p in line.split("...")) + r"\n")
    text = "".join(l.rstrip() + "\n" for l in actual.rstrip("\n").splitlines()) if actual else ""
    return re.fullmatch("".join(pattern), text) is not None
