"""The dependency graph of derive-kind variables across domains: cycles are spec errors with their path,
and derivations run each after what it reads (the vocabulary's stages only break ties)."""
from types import SimpleNamespace

from specs.derivation_graph import check_cycles, derivation_graph, derivation_order
from specs.vocabulary import ALGORITHMS


def spec_of(domains, design=None):
    return SimpleNamespace(domains=domains, design=design or {},
                           where=lambda file, *path: f"{file}.yaml: " + ".".join(map(str, path)))


def variable(name, algorithm=None, **args):
    return {"name": name, "map": {"algorithm": algorithm, **args}} if algorithm else {"name": name}


DM = {"variables": [
    variable("USUBJID", "derive_usubjid", source="Subject"),
    variable("RFSTDTC", "derive_rf_date", pick="first", sources=[{"domain": "EX", "variable": "EXSTDTC"}]),
    variable("RFXSTDTC", "derive_rf_date", pick="first", sources=[{"domain": "AE", "variable": "AESTDY"}]),
]}
EX = {"variables": [variable("USUBJID", "derive_usubjid", source="Subject"),
                    variable("EXSTDTC", "assign_datetime", date="EXSTDAT", format="DD/MM/YYYY"),
                    variable("EXSTDY", "derive_study_day", dtc="EXSTDTC")]}
AE = {"variables": [variable("USUBJID", "derive_usubjid", source="Subject"),
                    variable("AESTDTC", "assign_datetime", date="AESTDAT", format="DD/MM/YYYY"),
                    variable("AESTDY", "derive_study_day", dtc="AESTDTC")]}


def test_a_derivation_needing_itself_through_other_domains_is_a_spec_error():
    dm = {"variables": [dict(v) for v in DM["variables"]]}
    dm["variables"][1] = variable("RFSTDTC", "derive_rf_date", pick="first",
                                  sources=[{"domain": "EX", "variable": "EXSTDY"}])
    problems = []
    check_cycles(spec_of({"DM": dm, "EX": EX, "AE": AE}), problems)
    assert [str(p) for p in problems] == [
        "sdtm.yaml: domains.DM.variables.1.map: dependency cycle: DM.RFSTDTC -> EX.EXSTDY -> DM.RFSTDTC (each "
        "needs the next): no order can derive them"]


def test_a_variable_reading_itself_is_a_cycle():
    problems = []
    check_cycles(spec_of({"AE": {"variables": [variable("AESEQ", "derive_seq", order=["AESEQ"])]}}), problems)
    assert [str(p) for p in problems] == ["sdtm.yaml: domains.AE.variables.0.map: dependency cycle: AE.AESEQ -> "
                                          "AE.AESEQ (each needs the next): no order can derive them"]


def test_derivations_run_after_what_they_read_whatever_their_stage():
    # RFXSTDTC (stage 20) reads AESTDY (stage 40), which reads RFSTDTC: the stages alone would read AESTDY empty
    spec = spec_of({"DM": DM, "EX": EX, "AE": AE})
    assert derivation_graph(spec)[("DM", "RFXSTDTC")] == {("AE", "AESTDY")}
    order_in_spec = {("DM", "RFSTDTC"): 0, ("DM", "RFXSTDTC"): 1, ("EX", "EXSTDY"): 2, ("AE", "AESTDY"): 3}

    def priority(node):
        domain = spec.domains[node[0]]["variables"]
        algorithm = next(v["map"]["algorithm"] for v in domain if v["name"] == node[1])
        return ALGORITHMS[algorithm].stage, order_in_spec[node]

    assert derivation_order(spec, priority) == [("DM", "RFSTDTC"), ("EX", "EXSTDY"), ("AE", "AESTDY"),
                                                ("DM", "RFXSTDTC")]


def test_subject_elements_read_the_element_rules_and_epochs_read_subject_elements():
    design = {"elements": [{"etcd": "TRT", "start": {"domain": "EX", "variable": "EXSTDY", "pick": "first"}}]}
    ex = {"variables": EX["variables"] + [variable("EPOCH", "derive_epoch", dtc="EXSTDTC")]}
    dm = {"variables": DM["variables"][:2] + [variable("RFPENDTC", "derive_rf_date", pick="last",
                                                       sources=[{"domain": "EX", "variable": "EXSTDTC"}])]}
    spec = spec_of({"DM": dm, "EX": ex, "SE": {"build": "derive_se", "variables": []}}, design)
    graph = derivation_graph(spec)
    assert graph[("SE", "")] == {("EX", "EXSTDY"), ("DM", "RFPENDTC")}
    assert graph[("EX", "EPOCH")] == {("SE", "")}


def test_a_mapping_reading_mapped_variables_is_in_the_graph_with_the_derivations():
    # AETRTEM (a mapping reading DM.RFXSTDTC) comes after it; a derivation reading AETRTEM after AETRTEM;
    # RFXSTDTC reading back what reads it closes a cycle through the mapping
    ae = {"variables": AE["variables"] + [
        variable("AETRTEM", "condition_add", cases=[{"when": "date(AESTDAT) >= date(DM.RFXSTDTC)",
                                                     "then": {"algorithm": "hardcode_no_ct", "value": "Y"}}]),
        variable("AESEQ", "derive_seq", order=["AETRTEM"])]}
    dm = {"variables": DM["variables"][:2] + [variable("RFXSTDTC", "derive_rf_date", pick="first",
                                                       sources=[{"domain": "EX", "variable": "EXSTDTC"}])]}
    graph = derivation_graph(spec_of({"DM": dm, "EX": EX, "AE": ae}))
    assert graph[("AE", "AETRTEM")] == {("DM", "RFXSTDTC")}
    assert graph[("AE", "AESEQ")] == {("AE", "AETRTEM")}

    dm["variables"][2] = variable("RFXSTDTC", "derive_rf_date", pick="first",
                                  sources=[{"domain": "AE", "variable": "AETRTEM"}])
    problems = []
    check_cycles(spec_of({"DM": dm, "EX": EX, "AE": ae}), problems)
    assert [str(p) for p in problems] == [
        "sdtm.yaml: domains.AE.variables.3.map: dependency cycle: AE.AETRTEM -> DM.RFXSTDTC -> AE.AETRTEM (each "
        "needs the next): no order can derive them"]
