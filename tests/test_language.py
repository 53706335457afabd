"""Claims in another language are refused with a clear 422 (issue 10): the
models are English and misread them ("Un" as the United Nations)."""

from __future__ import annotations

import pytest

from claimlookup.language import guess
from claimlookup.lookup import ClaimNotEnglish, prepare_claims


@pytest.mark.parametrize(("text", "language"), [
    ("Un avion russe a bombardé le marché de Maaret al-Numan et tué vingt personnes", "French"),
    ("Etats-Unis: Mort pendant 48 minutes, un prêtre affirme que Dieu est une femme", "French"),
    ("Un ataque aéreo ruso contra el mercado de Maaret al-Numan mató a 20 personas", "Spanish"),
    ("Ein russischer Luftangriff auf einen Markt in Maaret al-Numan hat 20 Menschen getötet", "German"),
    ("Un attacco aereo russo sul mercato di Maaret al-Numan ha ucciso 20 persone secondo gli attivisti", "Italian"),
    ("Um ataque aéreo russo matou 20 pessoas no mercado de Maaret al-Numan, segundo os ativistas", "Portuguese"),
    ("Een Russische luchtaanval op een markt in Maaret al-Numan heeft 20 mensen gedood volgens het", "Dutch"),
    ("غارة جوية روسية على سوق معرة النعمان قتلت 20 شخصا", "Arabic"),
    ("Российский авиаудар по рынку в Маарет-эн-Нууман убил 20 человек", "Cyrillic (e.g. Russian)"),
])
def test_other_languages_are_named(text: str, language: str) -> None:
    guessed = guess(text)
    assert not guessed.english and guessed.language == language, guessed


@pytest.mark.parametrize("text", [
    "A Russian airstrike on a market in Maaret al-Numan killed 20 people",
    "Russian jets bombed Idlib market",  # no function words at all
    "Kim Jong-Un 'bans the name Kim Jong-un'",  # "un" inside a hyphenated name
    "UN envoy Staffan de Mistura said talks in Geneva would resume",  # a name with "de"
    "Los Angeles police said the suspect fled in a car",  # one Spanish-looking word
    "The average person swallows eight spiders per year.",
    "President Trump said, 'I can do my job without any intelligence whatsoever.'",
    "Assad's forces used sarin in Khan Sheikhoun, the OPCW said",
    "Le Pen won 34 per cent of the vote in the French election",
])
def test_english_claims_read_as_english(text: str) -> None:
    assert guess(text).english, guess(text)


def test_lookup_refuses_a_french_claim_before_any_model_runs() -> None:
    with pytest.raises(ClaimNotEnglish, match="French, not English"):
        prepare_claims(["Un avion russe a bombardé le marché de Maaret al-Numan et tué vingt personnes"])
