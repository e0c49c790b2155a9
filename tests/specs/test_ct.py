"""Controlled terminology: extraction from NCI EVS files, the shipped subsets, lookups, errors."""
import json
from pathlib import Path

import pytest

from specs import ct as ct_module
from specs.ct import Codelist, Term, extract_ct, load_ct
from specs.errors import SpecError

# the full NCI EVS packages: ../shared/reference/ct beside the repository (as in the workplace and CI)
REFERENCE = Path(__file__).resolve().parents[3] / "shared" / "reference" / "ct"

HEADER = [
    "Code", "Codelist Code", "Codelist Extensible (Yes/No)", "Codelist Name", "CDISC Submission Value",
    "CDISC Synonym(s)", "CDISC Definition", "NCI Preferred Term",
]
# A two-codelist package typed by hand, with a bare double quote in a definition as NCI EVS has.
ROWS = [
    ["C66731", "", "No", "Sex", "SEX", "Sex", "Sex of a person.", "CDISC SDTM Sex of Individual Terminology"],
    ["C16576", "C66731", "", "Sex", "F", "Female", 'A "female" person.', "Female"],
    ["C20197", "C66731", "", "Sex", "M", "Male", "A male person.", "Male"],
    ["C17998", "C66731", "", "Sex", "U", "U; UNK; Unknown", "Not known.", "Unknown"],
    ["C99079", "", "Yes", "Epoch", "EPOCH", "Epoch", "Trial epoch.", "CDISC SDTM Trial Epoch Terminology"],
    ["C48262", "C99079", "", "Epoch", "SCREENING", "Screening", "Screening epoch.", "Trial Screening"],
]


@pytest.fixture
def mini_txt(tmp_path):
    path = tmp_path / "SDTM_Terminology_2024-09-27.txt"
    path.write_text("\n".join("\t".join(r) for r in [HEADER, *ROWS]) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def mini_csv(tmp_path):
    import csv

    path = tmp_path / "ADaM_CT_2024-09-27.csv"
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, quoting=csv.QUOTE_ALL)
        writer.writerow(HEADER + ["Standard and Date"])
        writer.writerow(["C81224", "", "Yes", "Derivation Type", "DTYPE", "Derivation Type", "x.",
                         "CDISC ADaM Derivation Type Terminology", "ADaM CT 2024-09-27"])
        writer.writerow(["C81209", "C81224", "", "Derivation Type", "AVERAGE", "Average", "Mean, here.",
                         "Average of Value Derivation Technique", "ADaM CT 2024-09-27"])
    return path


def test_extract_writes_the_documented_layout(mini_txt, tmp_path):
    out = tmp_path / "out" / "sub.json"
    extract_ct(mini_txt, ["SEX"], out)
    data = json.loads(out.read_text())
    assert data == {
        "package": "SDTM CT",
        "date": "2024-09-27",
        "source": "SDTM_Terminology_2024-09-27.txt",
        "codelists": {
            "SEX": {
                "code": "C66731", "short": "SEX", "name": "Sex", "extensible": False,
                "terms": [
                    {"value": "F", "code": "C16576", "decode": "Female", "synonyms": ["Female"]},
                    {"value": "M", "code": "C20197", "decode": "Male", "synonyms": ["Male"]},
                    {"value": "U", "code": "C17998", "decode": "Unknown", "synonyms": ["U", "UNK", "Unknown"]},
                ],
            }
        },
    }
    assert [p.name for p in out.parent.iterdir()] == ["sub.json"]  # no temporary file left


def test_extract_csv_takes_package_from_the_file_and_date_when_given(mini_csv, tmp_path):
    data = extract_ct(mini_csv, ["DTYPE"], tmp_path / "a.json", date="2099-01-01")
    assert (data["package"], data["date"]) == ("ADaM CT", "2099-01-01")
    assert data["codelists"]["DTYPE"]["extensible"] is True
    assert data["codelists"]["DTYPE"]["terms"][0] == {
        "value": "AVERAGE", "code": "C81209", "decode": "Average of Value Derivation Technique", "synonyms": ["Average"],
    }


def test_extract_accepts_c_codes_and_keeps_the_requested_order(mini_txt, tmp_path):
    data = extract_ct(mini_txt, ["C99079", "SEX"], tmp_path / "x.json", package="My CT")
    assert list(data["codelists"]) == ["EPOCH", "SEX"]
    assert data["package"] == "My CT"


def test_extract_lists_every_unknown_codelist_and_writes_nothing(mini_txt, tmp_path):
    out = tmp_path / "x.json"
    with pytest.raises(SpecError) as caught:
        extract_ct(mini_txt, ["SEX", "SEXX", "LBTESTCD"], out)
    assert str(caught.value) == (
        "2 spec errors:\n"
        "  SDTM_Terminology_2024-09-27.txt: 'SEXX' is not a codelist of this package\n"
        "  SDTM_Terminology_2024-09-27.txt: 'LBTESTCD' is not a codelist of this package"
    )
    assert not out.exists()


def test_extract_needs_a_date(tmp_path, mini_txt):
    undated = tmp_path / "terminology.txt"
    undated.write_text(mini_txt.read_text())
    with pytest.raises(SpecError, match="no YYYY-MM-DD package date in the file name"):
        extract_ct(undated, ["SEX"], tmp_path / "x.json")


def test_cli_extract(mini_txt, tmp_path, capsys):
    out = tmp_path / "cli.json"
    code = ct_module.main(["extract", "--ct", str(mini_txt), "--codelist", "SEX", "--codelist", "EPOCH", "--out", str(out)])
    assert code == 0
    assert list(json.loads(out.read_text())["codelists"]) == ["SEX", "EPOCH"]
    assert ct_module.main(["extract", "--ct", str(mini_txt), "--codelist", "SEX,NOPE", "--out", str(out)]) == 1
    assert "'NOPE' is not a codelist of this package" in capsys.readouterr().err


# ------------------------------------------------------------------------ the shipped subsets
@pytest.fixture(scope="module")
def shipped():
    return load_ct()


def test_shipped_packages_and_dates(shipped):
    assert shipped.package_dates == {"ADaM CT": "2025-03-28", "SDTM CT": "2025-03-28"}


def test_sex_is_non_extensible_with_female_c16576(shipped):
    sex = shipped.codelist("SEX")
    assert (sex.code, sex.name, sex.extensible) == ("C66731", "Sex", False)
    assert sex.values() == ["F", "INTERSEX", "M", "U"]
    assert sex.term("F").code == "C16576"
    assert sex.term("F").decode == "Female"
    assert sex.package == "SDTM CT"


@pytest.mark.parametrize(
    "codelist, value, code",
    [
        ("UNIT", "nmol/L", "C67432"),
        ("LBTESTCD", "CPEPTIDE", "C74736"),
        ("LBTEST", "C-peptide", "C74736"),
        ("CPTESTCD", "TLHRTLH", "C198250"),
        ("NCOMPLT", "COMPLETED", "C25250"),
        ("NCOMPLT", "SCREEN FAILURE", "C49628"),
        ("NCOMPLT", "WITHDRAWAL BY SUBJECT", "C49634"),
        ("NY", "Y", "C49488"),
        ("DTYPE", "LOCF", "C81198"),
    ],
)
def test_shipped_terms(shipped, codelist, value, code):
    assert shipped.codelist(codelist).term(value).code == code


def test_extensibility(shipped):
    assert shipped.codelist("EPOCH").extensible is True
    assert shipped.codelist("UNIT").extensible is True
    assert shipped.codelist("NY").extensible is False


def test_lookup_by_c_code_and_has(shipped):
    assert shipped.codelist("C66731").short == "SEX"
    assert shipped.has("SEX") and shipped.has("C71620") and "EPOCH" in shipped
    assert not shipped.has("NOPE")


def test_unknown_codelist_is_a_clear_lookup_error(shipped):
    with pytest.raises(LookupError) as caught:
        shipped.codelist("NOPE")
    assert not isinstance(caught.value, KeyError)
    assert str(caught.value) == (
        "codelist 'NOPE' is not in the loaded controlled terminology (ADaM CT 2025-03-28, SDTM CT 2025-03-28); "
        "add it with: cdisc ct extract --ct <full package> --codelist NOPE --out <file>"
    )


def test_unknown_term_is_a_clear_lookup_error(shipped):
    with pytest.raises(LookupError) as caught:
        shipped.codelist("SEX").term("X")
    assert str(caught.value) == "'X' is not a term of codelist SEX (C66731)"


@pytest.mark.parametrize(
    "codelist, text, value",
    [
        ("SEX", "F", "F"),
        ("SEX", "female", "F"),  # synonym / decode, any case
        ("SEX", " Male ", "M"),
        ("SEX", "unk", "U"),
        ("SEX", "Femme", None),
        ("SEX", None, None),
        ("NY", "yes", "Y"),
        ("UNIT", "NMOL/L", "nmol/L"),  # submission value, any case
        ("UNIT", "Milligram per Deciliter", "mg/dL"),
        ("UNIT", "Pa", "Pa"),  # exact beats the case-insensitive clash with "PA"
        ("UNIT", "pa", None),  # "Pa" and "PA" are both terms: ambiguous, so no guess
        ("AGEU", "years", "YEARS"),
    ],
)
def test_lookup_synonym(shipped, codelist, text, value):
    assert shipped.codelist(codelist).lookup_synonym(text) == value


def test_load_reports_bad_files_together(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    odd = tmp_path / "odd.json"
    odd.write_text(json.dumps({"package": "SDTM CT"}))
    with pytest.raises(SpecError) as caught:
        load_ct([bad, odd, tmp_path / "missing.json"])
    lines = str(caught.value).splitlines()
    assert lines[0] == "3 spec errors:"
    assert lines[1].startswith(f"  {bad}: not valid JSON: Expecting property name")
    assert lines[2] == f"  {odd}: not a terminology subset (missing or malformed 'date')"
    assert lines[3] == f"  {tmp_path / 'missing.json'}: terminology file not found"


def test_round_trip_extract_then_load(mini_txt, tmp_path):
    out = tmp_path / "sub.json"
    extract_ct(mini_txt, ["SEX", "EPOCH"], out)
    terminology = load_ct([out])
    assert terminology.package_dates == {"SDTM CT": "2024-09-27"}
    assert terminology.codelist("SEX").term("U").synonyms == ("U", "UNK", "Unknown")
    assert terminology.codelist("EPOCH").lookup_synonym("screening") == "SCREENING"


@pytest.mark.skipif(not (REFERENCE / "SDTM_Terminology_2025-03-28.txt").exists(), reason="full package not present")
def test_shipped_subset_matches_the_full_package(tmp_path):
    data = extract_ct(REFERENCE / "SDTM_Terminology_2025-03-28.txt", ["SEX", "EPOCH"], tmp_path / "x.json")
    shipped = json.loads((ct_module.SHIPPED_DIR / "sdtm-ct-2025-03-28.json").read_text())
    assert data["codelists"]["SEX"] == shipped["codelists"]["SEX"]
    assert data["codelists"]["EPOCH"] == shipped["codelists"]["EPOCH"]


def test_variant_of_finds_a_term_spelled_with_other_accents_case_or_spacing():
    codelist = Codelist(code="C1", short="OUT", name="Outcome", extensible=True, terms={
        "COMPLETED": Term("C2", "Completed"), "NOT DONE": Term("C3", "Not Done", synonyms=("ND",)),
        "RÉSOLU": Term("C4", "Resolu"), "RESOLU": Term("C5", "Resolu bis")})
    assert codelist.variant_of("COMPLÉTED") == "COMPLETED"
    assert codelist.variant_of("not   done") == "NOT DONE"
    assert codelist.variant_of("Ǹ D") is None  # 'N D' is not a spelling of ND
    assert codelist.variant_of("resolu") is None  # two terms fold to RESOLU: ambiguous, no variant
    assert codelist.variant_of("NEW TERM") is None and codelist.variant_of(None) is None
