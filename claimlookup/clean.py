"""Boilerplate stripping: keep what the outlet wrote, drop what the page added.

Scraped articles arrive with the page around them: share buttons, "Related
Posts" link lists, footers, ad-blocker pleas, comment prompts, breadcrumbs,
photo captions. None of it is reporting, and left in it would make every
article from one site "report" the same sentences. The rules below are
general -- they look at the shape of a line (length, final punctuation,
separators), at link-list structure, and at a short list of phrases that page
furniture uses everywhere -- never at one site's exact strings.

The text is handled line by line (a line is a paragraph). Rules never cut
inside a line: a long single-paragraph body (as in FA-KES) passes untouched
except for whitespace normalisation. ``docs/indexer.md`` lists the rules.

Line rules (a whole line, at most ``MAX_FURNITURE_WORDS`` words):

``ui-label``        share / advertisement / print / subscribe labels
``footer``          "Powered by ...", "Designed by ...", copyright lines
``address-notice``  "... can also be accessed at the following alternate addresses:"
``bare-domain``     a line that is only a domain or a URL
``adblock``         ad-blocker detection and "disable your ad blocker" pleas
``hit-counter``     "Hits: 36", "1,204 views"
``comment-prompt``  "Leave a Reply", "You can leave a response, or trackback ..."
``breadcrumb``      "News / Syria", "Home > World > Middle East"
``link-stub``       a link label whose link is gone: "Source Article from", "Read more at:"
``back-to-top``     "Back to top button", "Skip to content"
``photo-caption``   a line ending in a photo credit "(Photo by AFP)" or starting "Photo:"
``tag-list``        "Tags: Syria, Idlib, ...", "Keywords: ..." (and a bare "Tags" label)
``credit``          "Reporting by ...; Editing by ..." production credits
``notice``          cookie-consent and newsletter sign-up notices

Structure rules:

``link-list``  a "Related Posts" / "Related Articles" / "You may also like" /
               "More from ..." heading and the teaser lines after it (headlines and
               cut-off excerpts, i.e. lines without sentence-final punctuation), up to
               the next full sentence
``tag-list``   the list line right after a bare "Tags" / "Keywords" / "Topics" label
``kicker``     a short Title-Case section label ("Middle East") right before a headline
``tail``       headline-shaped lines (no sentence-final punctuation, few words) after
               the article's last full sentence: teasers of other stories, app links
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

#: Page furniture is short; a line with more words is a paragraph and is kept.
MAX_FURNITURE_WORDS = 40
#: A photo caption may be a full descriptive sentence or two.
MAX_CAPTION_WORDS = 80
#: Tail teasers and link-list headlines are at most this long.
MAX_HEADLINE_WORDS = 20
#: A section label ("Middle East", "World") has at most this many words.
MAX_KICKER_WORDS = 3

_TITLE = "title"  # marks the line taken as the title (not boilerplate, not body)
_SPACE = re.compile(r"[^\S\n]+")  # any whitespace but newline, NBSP included
_SENTENCE_END = re.compile(r"[.!?\u2026][\"'\u201d\u2019\u00bb)\]]*$")
_WORD_CHAR = re.compile(r"[^\W_]")  # a letter or digit: what edge punctuation is not

# Labels that are a whole line of page furniture (compared lower-cased, without
# edge punctuation). Kept short on purpose: each entry is a UI label no
# reporter writes as a paragraph.
_UI_LABELS = frozenset({
    "share", "share this", "share this article", "share this story", "share this post",
    "share on facebook", "share on twitter", "tweet", "email", "print", "whatsapp",
    "advertisement", "advertising", "sponsored", "sponsored content", "ad",
    "subscribe", "subscribe now", "sign up", "newsletter", "follow us",
    "comments", "next article", "previous article", "next post", "previous post",
})
_LINK_LIST_HEADINGS = re.compile(
    r"^(related( posts| articles| stories| news| content)?|you (may|might) also like|"
    r"read (more|also|next)|see also|more (stories|news|articles)|recommended( for you)?|"
    r"most (read|popular|viewed)|trending( now)?|latest (news|posts|articles)|more from( [\w&'-]+){1,3})$")
_FOOTER = re.compile(r"\b(powered by|designed by|all rights reserved|theme by)\b|^(copyright\b|\u00a9)")
_ADDRESS_NOTICE = re.compile(r"\b(alternate|alternative|mirror) (web )?(address|addresses|site|sites|domains?)\b"
                             r"|\bcan (also )?be accessed at\b")
_BARE_DOMAIN = re.compile(r"^(https?://)?([a-z0-9-]+\.)+[a-z]{2,}(/\S*)?$")
_ADBLOCK = re.compile(r"\bad ?-?blocker?s?\b|\badblock\b|\bwhitelist (us|our site)\b")
_HIT_COUNTER = re.compile(r"^(hits|views|reads|visits|page views)\s*(?::\s*)?[\d,.]+$|^[\d,.]+\s+(hits|views|reads)$")
_COMMENT_PROMPT = re.compile(r"\bleave a (reply|comment|response)\b|\btrackback\b|\bcomments are closed\b"
                             r"|\bpost a comment\b|^\d+ comments?$|\byour email address will not be published\b")
# Not "|": "Headline | Outlet" is how page titles end.
_BREADCRUMB_SEPARATORS = re.compile(r"(?<!\s)\s+[/>\u203a\u00bb]\s+")
_LINK_STUB = re.compile(r"^((source|original)( article| link| story)?|read (more|the full (article|story)|the original)"
                        r"|originally published|via|continue reading)( (at|from|on|in|by|via))?\s*:?$")
_BACK_TO_TOP = re.compile(r"^(back to top|scroll to top|go to top|skip to (main )?content)( button)?$")
_PHOTO_CREDIT_END = re.compile(r"\((photo|picture|image|file photo|photograph)( by|:|\s)[^()]*\)$"
                               r"|\((afp|reuters|ap|getty|sana|epa)( photo| images)?\)$")
_PHOTO_LABEL_START = re.compile(r"^(photo|picture|image|file photo|photo credit)\s*:")
_TAG_LABELS = frozenset({"tags", "tagged", "tagged with", "keywords", "topics", "related topics", "filed under"})
_TAG_LIST = re.compile(r"^(tags|tagged( with)?|keywords|topics|related topics|filed under)\s*:\s*\S")
_CREDIT = re.compile(r"^(additional )?(reporting|writing|editing|edited|written|compiled) by\b")
# Consent and sign-up notices: "cookies" with what a banner asks for, or a
# newsletter / inbox sign-up prompt. Never a reporter's paragraph in this domain.
# Judged on the line's set of words, not by a pattern with ".*" between two
# cues (quadratic on a line of many "cookies.").
_WORDS = re.compile(r"[a-z]+")
_COOKIE_CUES = frozenset({"uses", "partners", "accept", "consent", "preferences", "privacy"})
_SIGNUP_CUES = frozenset({"newsletter", "newsletters", "inbox", "alerts"})


@dataclass(frozen=True, slots=True)
class DroppedLine:
    """A line the cleaner removed, and which rule removed it."""

    line: int  # 1-based line number in the input text
    text: str
    rule: str


@dataclass(frozen=True, slots=True)
class CleanedArticle:
    """The article as the outlet wrote it. ``body`` has one paragraph per
    original non-empty line, separated by a blank line."""

    title: str
    body: str
    dropped: tuple[DroppedLine, ...] = ()


@dataclass(slots=True)
class _Line:
    number: int
    text: str
    rule: str | None = None

    @property
    def kept(self) -> bool:
        return self.rule is None


def normalise_space(text: str) -> str:
    """Collapse runs of spaces, tabs and no-break spaces inside a line; strip."""
    return _SPACE.sub(" ", text).strip()


def clean_article(text: str, title: str | None = None) -> CleanedArticle:
    """Strip boilerplate from ``text``.

    With ``title`` (a source that has a title field), ``text`` is the body.
    Without, ``text`` is a whole document and the title is its first
    non-empty line that is not boilerplate (section labels before it dropped).
    """
    lines = _split(text)
    _apply_line_rules(lines)
    _apply_tag_lists(lines)
    _apply_link_lists(lines)
    title = normalise_space(title or "")
    if not title:
        _apply_kicker(lines)
        title = _take_title(lines)
    _apply_tail(lines)
    body = "\n\n".join(line.text for line in lines if line.kept)
    dropped = tuple(DroppedLine(line.number, line.text, line.rule) for line in lines
                    if line.rule and line.rule != _TITLE)
    return CleanedArticle(title=title, body=body, dropped=dropped)


def boilerplate_rule(line: str) -> str | None:
    """The name of the line rule that marks ``line`` as boilerplate, or None."""
    text = normalise_space(line)
    words = len(text.split())
    if not text or words > MAX_CAPTION_WORDS:
        return None
    if _is_photo_caption(text):
        return "photo-caption"
    if words > MAX_FURNITURE_WORDS:
        return None
    lowered = text.lower()
    for name, matches in _LINE_RULES:
        if matches(text, lowered):
            return name
    return None


def is_sentence(line: str) -> bool:
    """Does the line end like a sentence (., !, ?, ... possibly before a closing quote)?"""
    return bool(_SENTENCE_END.search(line.rstrip()))


def is_link_list_heading(line: str) -> bool:
    return bool(_LINK_LIST_HEADINGS.match(_bare(line)))


# --- line rules ---------------------------------------------------------------


def _bare(text: str) -> str:
    """Lower-cased, edge punctuation removed: "SHARE THIS ARTICLE:" -> "share this article"."""
    return _strip_punct_edges(normalise_space(text).lower())


def _strip_punct_edges(text: str) -> str:
    """``text`` from its first to its last letter or digit ("" if it has none).

    Not a regex substitution of edge punctuation runs anchored at the end:
    that is tried at every position of a run of punctuation and rescans the
    rest of the run each time, quadratic in the run (a 1 MB line of dashes
    took hours). Two forward searches for a word character are linear."""
    first = _WORD_CHAR.search(text)
    if first is None:
        return ""
    last = _WORD_CHAR.search(text[::-1])  # found too: the text has a word character
    return text[first.start():len(text) - (last.start() if last else 0)]


def _is_ui_label(text: str, lowered: str) -> bool:
    return _bare(text) in _UI_LABELS


def _is_footer(text: str, lowered: str) -> bool:
    # "Powered by" in a sentence ("a plant powered by coal.") is prose: require no final period.
    return bool(_FOOTER.search(lowered)) and not is_sentence(text)


def _is_tag_list(text: str, lowered: str) -> bool:
    return not is_sentence(text) and (bool(_TAG_LIST.match(lowered)) or _bare(text) in _TAG_LABELS)


def _is_notice(text: str, lowered: str) -> bool:
    words = _WORDS.findall(lowered)
    present = set(words)
    joined = f" {' '.join(words)} "
    if "cookies" in present:
        return bool(present & _COOKIE_CUES) or " we use " in joined or " use of " in joined
    return bool(present & _SIGNUP_CUES) and ("subscribe" in present or " sign up " in joined)


def _is_credit(text: str, lowered: str) -> bool:
    return not is_sentence(text) and bool(_CREDIT.match(lowered))


def _is_breadcrumb(text: str, lowered: str) -> bool:
    parts = _BREADCRUMB_SEPARATORS.split(text)
    return (len(parts) >= 2 and not is_sentence(text)
            and all(0 < len(part.split()) <= MAX_KICKER_WORDS for part in parts))


def _is_photo_caption(text: str) -> bool:
    lowered = text.lower()
    return bool(_PHOTO_CREDIT_END.search(lowered) or _PHOTO_LABEL_START.match(lowered))


def _pattern(regex: re.Pattern[str], *, bare: bool = False) -> Callable[[str, str], bool]:
    def matches(text: str, lowered: str) -> bool:
        return bool(regex.search(_bare(text) if bare else lowered))
    return matches


_LINE_RULES: Sequence[tuple[str, Callable[[str, str], bool]]] = (
    ("ui-label", _is_ui_label),
    ("footer", _is_footer),
    ("address-notice", _pattern(_ADDRESS_NOTICE)),
    ("bare-domain", _pattern(_BARE_DOMAIN)),
    ("adblock", _pattern(_ADBLOCK)),
    ("hit-counter", _pattern(_HIT_COUNTER, bare=True)),
    ("comment-prompt", _pattern(_COMMENT_PROMPT)),
    ("breadcrumb", _is_breadcrumb),
    ("link-stub", _pattern(_LINK_STUB, bare=True)),
    ("back-to-top", _pattern(_BACK_TO_TOP, bare=True)),
    ("tag-list", _is_tag_list),
    ("credit", _is_credit),
    ("notice", _is_notice),
)


# --- structure rules ------------------------------------------------------------


def _split(text: str) -> list[_Line]:
    raw = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return [_Line(number, normalise_space(line)) for number, line in enumerate(raw, start=1)
            if normalise_space(line)]


def _apply_line_rules(lines: list[_Line]) -> None:
    for line in lines:
        line.rule = boilerplate_rule(line.text)


def _apply_tag_lists(lines: list[_Line]) -> None:
    """Drop the list after a bare "Tags" label: the next line, if it is not a sentence."""
    for label, following in zip(lines, lines[1:], strict=False):
        if (label.rule == "tag-list" and _bare(label.text) in _TAG_LABELS and following.kept
                and not is_sentence(following.text) and len(following.text.split()) <= MAX_FURNITURE_WORDS):
            following.rule = "tag-list"


def _apply_link_lists(lines: list[_Line]) -> None:
    """Drop a link-list heading and the teasers after it, up to the next full sentence."""
    in_list = False
    for line in lines:
        if is_link_list_heading(line.text):
            line.rule, in_list = "link-list", True
        elif in_list and line.kept and _is_teaser(line.text):
            line.rule = "link-list"
        elif in_list and line.kept:
            in_list = False


def _apply_kicker(lines: list[_Line]) -> None:
    """Drop a short Title-Case section label that sits right before the headline."""
    kept = [line for line in lines if line.kept]
    if len(kept) >= 3 and _is_kicker(kept[0].text) and _is_headline_shaped(kept[1].text):
        kept[0].rule = "kicker"


def _take_title(lines: list[_Line]) -> str:
    for line in lines:
        if line.kept:
            line.rule = _TITLE
            return line.text
    return ""


def _apply_tail(lines: list[_Line]) -> None:
    """Drop headline-shaped lines after the last full sentence of the body."""
    body = [line for line in lines if line.kept]
    for line in reversed(body[1:]):  # the first body paragraph always stays
        if not _is_headline_shaped(line.text):
            return
        line.rule = "tail"


def _is_headline_shaped(text: str) -> bool:
    return not is_sentence(text) and len(text.split()) <= MAX_HEADLINE_WORDS


def _is_teaser(text: str) -> bool:
    """A link-list entry: a headline, or an excerpt cut off mid-sentence."""
    return not is_sentence(text) and len(text.split()) <= MAX_FURNITURE_WORDS


def _is_kicker(text: str) -> bool:
    words = text.split()
    return (len(words) <= MAX_KICKER_WORDS and not is_sentence(text)
            and all(word[:1].isupper() for word in words))
