"""Find other reports of a claim: candidates, scoring, grouping, annotations.

The package's public face. Two entry points take a ``Store``
(``service.py``): :func:`find_reports` (one claim -> the articles that report
it, grouped by article, best first, with stance, figures and entities) and
:func:`scan` (a whole article -> its check-worthy sentences and their other
reports). Around them, pure functions, one concern a module: ``claim``
(cleaning, analysis, embedding), ``features`` (candidates and their evidence),
``figures`` (do two figures agree), ``scoring`` (the fitted models),
``grouping`` (by article, copies, exclusions), ``judging`` (the relation
model: calibrated score and stance of the best reports), ``reports`` (what a report
shows, the summary), ``results`` (the request and result types), ``page``
(a scanned page: its furniture, which sentences are looked up, their context).

Errors: :class:`ClaimTooShort` and :class:`ClaimNotEnglish` (``ValueError``s, API 422); ``ArticleNotFound``
from the store for an unknown ``article_id`` (404); ``StoreUnavailable``
passes through (503).
"""

from __future__ import annotations

from claimlookup.lookup.claim import (  # noqa: F401
    PreparedClaim,
    _embed,
    _prepared,
    content_words,
    normalise_claim,
    prepare_claims,
)
from claimlookup.lookup.features import (  # noqa: F401
    ARTICLE_FEATURES,
    BM25_AVERAGE_LENGTH,
    BM25_B,
    BM25_K1,
    LEXICAL_CANDIDATES,
    MAX_QUERY_TERMS,
    PROPOSING_TERMS,
    RANK_SCALE,
    SECOND_GAP,
    SENTENCE_FEATURES,
    VECTOR_CANDIDATES,
    CandidateSet,
    article_features,
    bm25,
    candidate_sets,
    lexical_query,
)
from claimlookup.lookup.figures import (  # noqa: F401
    APPROX_TOLERANCE,
    EVENT_PART_OF,
    OPEN_BOUND_RANGE,
    PART_OF,
    VAGUE_TOLERANCE,
    Relation,
    agreement,
    comparable,
    figures_agree,
    fits,
    relation,
    same_thing_agreement,
)
from claimlookup.lookup.grouping import (  # noqa: F401
    COPY_TITLE_COSINE,
    FOLD_DEPTH,
    _Exclusion,
    _Group,
    fold_copies,
    group_by_article,
)
from claimlookup.lookup.judging import (  # noqa: F401
    SCORE_FEATURES,
    Judgement,
    get_relation_model,
    judge,
    load_calibration,
    score_features,
)
from claimlookup.lookup.reports import (  # noqa: F401
    MAX_SENTENCES_PER_REPORT,
    SENTENCE_FLOOR,
    SUMMARY_MIN_SCORE,
    build_report,
    figures_table,
    highlight,
    judged_groups,
    order_key,
    reports_for,
    summarise,
)
from claimlookup.lookup.results import (  # noqa: F401
    MAX_LIMIT,
    MIN_CONTENT_WORDS,
    ClaimNotEnglish,
    ClaimTooShort,
    ClaimView,
    Copy,
    FigureRow,
    FigureValue,
    LookupRequest,
    LookupResult,
    QuantityAgreement,
    Report,
    ReportSentence,
    ScannedSentence,
    ScanResult,
    SkippedSentence,
    Summary,
)
from claimlookup.lookup.scoring import (  # noqa: F401
    FAR_FIGURE,
    FIGURE_SENTENCES,
    NEWS_FEATURES,
    RELATIVE_FEATURES,
    ScoredCandidates,
    _models,
    _news_model,
    news_applies,
    news_features,
    score,
)
from claimlookup.lookup.service import (  # noqa: F401
    FIGURE_REPORT_SCORE,
    FIGURE_REPORTS,
    SCAN_CANDIDATES,
    SCAN_MIN_ACTORS,
    SCAN_MIN_SCORE,
    SCAN_MIN_WORDS,
    check_worthiness,
    find_reports,
    scan,
    with_figure_sentences,
)
