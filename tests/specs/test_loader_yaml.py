"""specs.loader.safe_load_yaml: libyaml's parser where PyYAML has it, the same document, limits and messages as
the pure-Python LimitedSafeLoader."""
import pytest
import yaml

from specs import loader

needs_libyaml = pytest.mark.skipif(getattr(yaml, "CSafeLoader", None) is None, reason="PyYAML without libyaml")

LAUGHS = "a: &a [x,x,x,x,x,x,x,x,x,x]\n" + "".join(
    f"{new}: &{new} [" + ",".join([f"*{old}"] * 10) + "]\n" for old, new in zip("abcdef", "bcdefg"))
ALIASES = "x: &a 1\ny: [" + ",".join(["*a"] * 201) + "]\n"


def python_load(text):
    return loader.LimitedSafeLoader(text).get_single_data()


def refusal(load, text):
    with pytest.raises(yaml.YAMLError) as caught:
        load(text)
    mark = caught.value.problem_mark
    return type(caught.value).__name__, caught.value.problem, mark.line, mark.column


@needs_libyaml
def test_the_c_parser_gives_the_python_parsers_document():
    text = "base: &base {type: Char, length: 8}\nvars:\n- <<: *base\n  name: AVAL\n- {name: 'x', n: 1.50, d: 2024-01-02}\n"
    assert loader._c_safe_load(text) == python_load(text) == loader.safe_load_yaml(text)


@needs_libyaml
@pytest.mark.parametrize("text, problem, line, column", [
    (LAUGHS, "aliases (*name) expand the document to 2,000,000 nodes or more (limit 200,000)", 0, 0),
    (ALIASES, "more than 200 aliases (*name)", 1, 604),  # the 201st alias
])
def test_the_c_parser_refuses_what_the_python_parser_refuses_with_the_same_mark(text, problem, line, column):
    assert refusal(loader._c_safe_load, text) == refusal(python_load, text) == ("YamlLimitError", problem, line,
                                                                                 column)


def test_a_document_libyaml_refuses_gets_the_python_parsers_message():
    assert refusal(loader.safe_load_yaml, "a: [1\nb: 2\n") == ("ParserError", "expected ',' or ']', but got ':'", 1, 1)


def test_an_empty_document_is_none():
    assert loader.safe_load_yaml("# nothing\n") is None
