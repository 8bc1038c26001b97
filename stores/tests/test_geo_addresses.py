"""What the geocoders accept as an address text, checked before any lookup."""

import pytest

from stores.geo import InvalidAddress, clean_address

REFUSED = [
    ("", "Saisissez une adresse."),
    (" \n\t ", "Saisissez une adresse."),
    ("a" * 2000, "Cette adresse est trop longue (300 caractères au plus)."),
    ("12 rue " + "x" * 294, "Cette adresse est trop longue (300 caractères au plus)."),
    ("69002", "Indiquez le numéro, la rue et la ville, pas seulement des chiffres."),
    ("12, 69002 - 04 78 42 11 20", "Indiquez le numéro, la rue et la ville, pas seulement des chiffres."),
    ("６９００２", "Indiquez le numéro, la rue et la ville, pas seulement des chiffres."),
    ("ул. Ленина 1, Москва", "Écrivez l'adresse en caractères latins."),
    ("北京市朝阳区建国路 1 号", "Écrivez l'adresse en caractères latins."),
    ("12 rue Victor Hugo, Lyon ٢", "Écrivez l'adresse en caractères latins."),
    ("12 rue Victor\x00 Hugo, 69002 Lyon", "Cette adresse contient des caractères non valides."),
]


@pytest.mark.parametrize(("text", "message"), REFUSED, ids=[
    "empty", "blank", "2000-characters", "301-characters", "postcode-only", "digits-only",
    "full-width-digits", "cyrillic",
    "chinese", "arabic-digit", "control-character",
])  # fmt: skip
def test_a_text_that_cannot_be_an_address_is_refused_with_a_french_message(text, message):
    with pytest.raises(InvalidAddress) as error:
        clean_address(text)

    assert error.value.message == message


def test_none_is_refused_like_an_empty_text():
    with pytest.raises(InvalidAddress):
        clean_address(None)


def test_a_french_address_with_accents_and_punctuation_is_accepted_with_its_spaces_collapsed():
    text = "  12  rue de l'Hôtel-de-Ville,\n69001   Lyon (3ᵉ étage, code « 1234 ») "

    assert clean_address(text) == "12 rue de l'Hôtel-de-Ville, 69001 Lyon (3ᵉ étage, code « 1234 »)"


def test_an_address_of_300_characters_is_accepted():
    text = "12 rue " + "x" * 293

    assert clean_address(text) == text
