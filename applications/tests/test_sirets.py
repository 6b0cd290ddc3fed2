import pytest
from django.core.exceptions import ValidationError

from applications.sirets import normalise_siret, validate_siret


def test_valid_siret_is_accepted():
    validate_siret("73282932000074")


def test_siret_with_spaces_is_accepted_and_normalised():
    validate_siret("732 829 320 00074")

    assert normalise_siret(" 732 829 320 00074 ") == "73282932000074"


@pytest.mark.parametrize("value", ["7328293200007", "732829320000745", "", "7328293200007A"])
def test_siret_of_wrong_length_or_not_digits_is_refused(value):
    with pytest.raises(ValidationError) as error:
        validate_siret(value)

    assert error.value.code == "siret_length"
    assert error.value.messages == ["Le SIRET doit comporter exactement 14 chiffres."]


def test_siret_with_wrong_luhn_checksum_is_refused():
    with pytest.raises(ValidationError) as error:
        validate_siret("73282932000075")

    assert error.value.code == "siret_checksum"
    assert error.value.messages == ["Ce SIRET n'est pas valide : vérifiez les chiffres saisis."]


def test_la_poste_establishment_follows_the_digit_sum_rule_not_luhn():
    # Luhn fails, but the digits add up to a multiple of 5: valid for La Poste's SIREN.
    validate_siret("35600000049837")


def test_la_poste_establishment_with_wrong_digit_sum_is_refused():
    with pytest.raises(ValidationError) as error:
        validate_siret("35600000012345")

    assert error.value.code == "siret_checksum"


def test_la_poste_head_office_follows_luhn():
    validate_siret("35600000000048")
