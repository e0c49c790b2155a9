import pandas as pd
import pytest

from sdtm.timing import baseline_flag, epoch_of, pick_date


def test_epoch_from_subject_elements():
    # Elements: screening from 2023-01-01, ciclosporin from 2023-01-10, follow-up from 2023-03-14 to 2023-06-30.
    se = pd.DataFrame({"USUBJID": ["S1"] * 3, "TAETORD": [1.0, 2.0, 3.0],
                       "SESTDTC": ["2023-01-01", "2023-01-10", "2023-03-14"],
                       "SEENDTC": ["2023-01-10", "2023-03-14", "2023-06-30"],
                       "EPOCH": ["SCREENING", "OPEN LABEL TREATMENT", "FOLLOW-UP"]})
    data = pd.DataFrame({"USUBJID": ["S1"] * 7,
                         "LBDTC": ["2023-01-09", "2023-01-10T08:00", "2023-03-13", "2023-06-30", "2023-07-01", "2023-02",
                                   "2023-03"]})
    # 2023-02 lies entirely in the ciclosporin element; 2023-03 spans the transition of 2023-03-14
    assert list(epoch_of(data, "LBDTC", se)) == ["SCREENING", "OPEN LABEL TREATMENT", "OPEN LABEL TREATMENT",
                                                  "FOLLOW-UP", "", "OPEN LABEL TREATMENT", ""]


# Elements to the minute: the blinded element starts with the first injection at 2022-12-19T09:55; the
# screening and ciclosporin elements start on a date (consent, first capsule).
SE_TIMED = pd.DataFrame({"USUBJID": ["S1"] * 4, "TAETORD": [1.0, 2.0, 3.0, 4.0],
                         "SESTDTC": ["2022-10-10", "2022-10-18", "2022-12-19T09:55", "2023-10-16"],
                         "SEENDTC": ["2022-10-18", "2022-12-19T09:55", "2023-10-16", "2024-10-04"],
                         "EPOCH": ["SCREENING", "OPEN LABEL TREATMENT", "BLINDED TREATMENT", "FOLLOW-UP"]})


def test_epoch_to_the_minute_on_the_day_an_element_starts():
    data = pd.DataFrame({"USUBJID": ["S1"] * 5,
                         "LBDTC": ["2022-12-19T09:40", "2022-12-19T09:55", "2022-12-19T10:10", "2022-12-19",
                                   "2022-12-18T23:00"]})
    # drawn 15 minutes before the first injection: still the ciclosporin epoch; at or after it: blinded
    assert list(epoch_of(data, "LBDTC", SE_TIMED)) == [
        "OPEN LABEL TREATMENT", "BLINDED TREATMENT", "BLINDED TREATMENT", "BLINDED TREATMENT", "OPEN LABEL TREATMENT"]


def test_a_date_without_time_on_a_transition_day_follows_the_same_day_rule():
    data = pd.DataFrame({"USUBJID": ["S1"] * 4,
                         "LBDTC": ["2022-12-19", "2022-10-18T08:00", "2022-12-19T09:00", "2022-10-10T08:30"]})
    # 2022-12-19 without time vs a start at 09:55, 08:00 on 2022-10-18 vs a start without time: order unknown;
    # 2022-12-19T09:00 is before 09:55; on the consent day (first element) no element ends: screening
    assert list(epoch_of(data, "LBDTC", SE_TIMED, same_day="earlier")) == [
        "OPEN LABEL TREATMENT", "SCREENING", "OPEN LABEL TREATMENT", "SCREENING"]
    assert list(epoch_of(data, "LBDTC", SE_TIMED, same_day="later")) == [
        "BLINDED TREATMENT", "OPEN LABEL TREATMENT", "OPEN LABEL TREATMENT", "SCREENING"]
    assert list(epoch_of(data, "LBDTC", SE_TIMED, same_day="null")) == ["", "", "OPEN LABEL TREATMENT", "SCREENING"]
    with pytest.raises(ValueError, match="same_day must be one of later, earlier, null"):
        epoch_of(data, "LBDTC", SE_TIMED, same_day="sometimes")


def test_last_observation_before_first_dose():
    data = pd.DataFrame({"USUBJID": ["S1"] * 4 + ["S2"],
                         "LBTESTCD": ["HBA1C", "HBA1C", "HBA1C", "GLUC", "HBA1C"],
                         "LBDTC": ["2023-01-01", "2023-01-10T08:00", "2023-02-01", "2023-01-02", "2023-01-05"],
                         "LBSTRESC": ["8.1", "", "7.5", "5.2", "7.9"]})
    reference = pd.Series({"S1": "2023-01-10", "S2": ""})
    # S1 HBA1C on the first-dose day has no result, so the screening value is the last one before dosing.
    assert list(baseline_flag(data, ["LBTESTCD"], "LBDTC", "LBSTRESC", reference, same_day="before")) == \
        ["Y", "", "", "Y", ""]


def test_pick_date_first_and_last_per_subject_in_subject_order():
    """Each subject's smallest or largest ISO text (a partial date sorts before its complete form), subjects
    sorted, empty dates ignored; a record without a subject takes pandas' sort (the same values)."""

    lb = pd.DataFrame({"USUBJID": ["S-2", "S-1", "S-2", "S-1"], "DTC": ["2023-06-15", "2023-06", "", "2023-06-02T08:00"]})
    vs = pd.DataFrame({"USUBJID": ["S-3", "S-2"], "DTC": ["2023-07-01", "2023-06-14"]}).astype("str")
    first, last = pick_date([lb, vs], "first"), pick_date([lb, vs], "last")
    assert first.index.tolist() == ["S-1", "S-2", "S-3"] and last.index.tolist() == ["S-1", "S-2", "S-3"]
    assert first.tolist() == ["2023-06", "2023-06-14", "2023-07-01"]
    assert last.tolist() == ["2023-06-02T08:00", "2023-06-15", "2023-07-01"]
    no_subject = pd.DataFrame({"USUBJID": ["S-1", None], "DTC": ["2023-01-02", "2023-01-01"]})
    picked = pick_date([no_subject], "first")
    assert picked.iloc[0] == "2023-01-02" and picked.index[0] == "S-1" and len(picked) == 2
    assert pick_date([], "first").empty


def test_epoch_of_the_latest_element_that_holds_the_record_by_taetord():
    # S1: SCREENING then TREATMENT (listed out of TAETORD order in SE); S2 has no element; a partial date
    # spanning the transition has no epoch; a record of the day TREATMENT starts goes to it ('later')
    se = pd.DataFrame({"USUBJID": ["S1", "S1"], "SESTDTC": ["2023-06-10", "2023-06-01"],
                       "SEENDTC": ["2023-06-30", "2023-06-10"], "EPOCH": ["TREATMENT", "SCREENING"],
                       "TAETORD": [2.0, 1.0]})
    data = pd.DataFrame({"USUBJID": ["S1", "S1", "S1", "S2", "S1", "S1"],
                         "DTC": ["2023-06-05", "2023-06-10", "2023-06", "2023-06-05", "", "2023-06-30"]},
                        index=[7, 8, 9, 10, 11, 12])
    epoch = epoch_of(data, "DTC", se)
    assert epoch.tolist() == ["SCREENING", "TREATMENT", "", "", "", "TREATMENT"]
    assert epoch.index.tolist() == [7, 8, 9, 10, 11, 12]
    assert epoch_of(data, "DTC", se, same_day="earlier").tolist()[1] == "SCREENING"
