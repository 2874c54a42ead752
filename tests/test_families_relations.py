"""Relations across files: subtypes, overrides, callers and callees, the types that use a
type, and the flow of an HTTP route, on small repositories written inline."""

from collections import defaultdict

from dataprep.generate import templates as tg
from dataprep.generate.families.relations import RelationGraph
from dataprep.generate.families.repo import RepoView
from dataprep.generate.java_calls import Call, calls, local_types, strip_noise, type_words
from dataprep.languages.java.slicer import slice_java

SHAPES = {
    "src/main/java/geo/Shape.java": """package geo;

/** A closed figure. */
public interface Shape {
    /** Computes the area. */
    double area();
}
""",
    "src/main/java/geo/Circle.java": """package geo;

/** A round shape. More text. */
public class Circle implements Shape {
    private final double r;
    Circle(double r) { this.r = r; }
    @Override
    public double area() { return Math.PI * square(r); }
    static double square(double x) { return x * x; }
}
""",
    "src/main/java/geo/Square.java": """package geo;

public class Square extends Base implements Shape {
    public double area() { return side() * side(); }
    @Override
    public String label() { return "square"; }
}
""",
    "src/main/java/geo/Base.java": """package geo;

/** Shared parts of shapes. */
public abstract class Base {
    /** The side length. */
    protected double side() { return 2; }
    /** A label for the shape. */
    public String label() { return "shape"; }
    String describe() { return "base"; }
}
""",
    "src/main/java/geo/Report.java": """package geo;

import java.util.List;

public class Report {
    private final List<Shape> shapes;
    Report(List<Shape> shapes) { this.shapes = shapes; }
    /** Sums the areas. */
    double total(Shape one, Square sq) {
        String s = "area() in a string"; // area() in a comment
        return one.area() + sq.label().length() + Circle.square(2);
    }
    Object pick() { return shapes.get(0); }
    double guess() { return ((Shape) pick()).area() + measure().widthOf(); }
    String name() { return ((Ruler) pick()).describe(); }
    Ruler measure() { return new Ruler(); }
}
""",
    "src/main/java/geo/Ruler.java": """package geo;

public class Ruler {
    double widthOf() { return 1; }
    String describe() { return "ruler"; }
}
""",
    "src/test/java/geo/ReportTest.java": """package geo;

class ReportTest {
    void sums() { new Circle(1).area(); Circle.square(3); }
}
""",
}


def _slice(files: dict[str, str]):
    units = []
    for path, text in files.items():
        units += slice_java(path, text, "r", None)[0]
    return units


def _pairs(files: dict[str, str]) -> dict[str, dict[str, str]]:
    """Task -> {instruction: output} of the relations tasks."""
    out: dict[str, dict[str, str]] = defaultdict(dict)
    for pair in tg.generate_template_pairs(_slice(files)):
        out[pair.task][pair.instruction] = pair.output
    return out


def _answers(files: dict[str, str], task: str) -> dict[str, str]:
    """The answers of a repository-level task by subject: `p.Type` or `p.Type.method()`."""
    units = _slice(files)
    by_id = {u.id: u for u in units}
    pairs, _ = tg.resolve([c for c in tg.repo_level_candidates(units) if c.task == task])
    out = {}
    for pair in pairs:
        unit = by_id[pair.unit_id]
        out[unit.qualified_name + "()" * (unit.kind in ("method", "constructor"))] = pair.output
    return out


def test_an_interface_lists_its_implementations_with_their_summaries():
    answers = _answers(SHAPES, "type.subtypes")
    assert answers["geo.Shape"] == ("- `geo.Circle`: A round shape.\n- `geo.Square`")
    assert answers["geo.Base"] == "- `geo.Square`"
    assert "geo.Circle" not in answers  # nothing extends it: no pair


def test_an_override_names_the_supertype_declaration():
    answers = _answers(SHAPES, "method.overrides")
    assert answers["geo.Circle.area()"] == "It implements `double area()` of `geo.Shape`."
    assert answers["geo.Square.area()"] == "It implements `double area()` of `geo.Shape`."
    assert answers["geo.Square.label()"] == "It overrides `public String label()` of `geo.Base`."
    assert "geo.Circle.square()" not in answers  # static: hides, does not override


def test_callers_of_a_method_that_every_call_reaches_by_type_or_unique_name():
    answers = _answers(SHAPES, "method.callers")
    # Circle.square: a static call on the type; the test's call does not count
    assert answers["geo.Circle.square()"] == "- `Circle.area`\n- `Report.total`"
    # Ruler.widthOf: a call on a chained result whose method is known (measure() -> Ruler)
    assert answers["geo.Ruler.widthOf()"] == "- `Report.guess`"
    assert answers["geo.Base.side()"] == "- `Square.area`"


def test_an_ambiguous_method_name_gives_no_callers_pair():
    # `((Ruler) pick()).describe()`: a receiver of unknown type, and two unrelated types
    # declare `describe`: the call could reach either, so no list of its callers is complete
    answers = _answers(SHAPES, "method.callers")
    assert not [k for k in answers if k.endswith(".describe()")]
    assert "geo.Report.name()" not in _answers(SHAPES, "method.callees")
    # `((Shape) pick()).area()`: Shape.area and its implementations: the call is Shape's
    assert answers["geo.Shape.area()"] == "- `Report.guess`\n- `Report.total`"
    callees = _answers(SHAPES, "method.callees")
    assert callees["geo.Report.total()"] == (
        "- `Shape.area`: Computes the area.\n- `Square.label`: A label for the shape.\n"
        "- `Circle.square`"
    )  # in order of first call; the string and the comment are not calls; Square.label
    # has no Javadoc and takes the one of the method it overrides, as the javadoc tool does


def test_a_name_declared_once_is_resolved_even_without_a_known_receiver():
    files = {
        "src/main/java/p/Codec.java": "package p;\npublic class Codec {\n"
        "  /** Turns text into bytes. */\n"
        "  public static byte[] encodeAll(String s) { return null; }\n}\n",
        "src/main/java/p/Use.java": "package p;\nimport java.util.List;\nclass Use {\n"
        "  void a(List<Codec> all) { all.forEach(c -> c.encodeAll(\"x\")); }\n}\n",
    }  # fmt: skip
    # `c` (a lambda's parameter) has no declared type; `encodeAll` is declared once
    assert _answers(files, "method.callers") == {"p.Codec.encodeAll()": "- `Use.a`"}
    assert _answers(files, "method.callees")["p.Use.a()"] == (
        "- `Codec.encodeAll`: Turns text into bytes."
    )


def test_types_that_use_a_type():
    answers = _answers(SHAPES, "type.users")
    assert answers["geo.Shape"] == "- `geo.Circle`\n- `geo.Report`\n- `geo.Square`"
    assert answers["geo.Ruler"] == "- `geo.Report`"


def test_a_simple_name_in_two_packages_is_resolved_by_the_imports():
    files = {
        "src/main/java/a/Node.java": "package a;\npublic interface Node {}\n",
        "src/main/java/b/Node.java": "package b;\npublic interface Node {}\n",
        "src/main/java/c/Leaf.java": "package c;\nimport b.Node;\n"
        "public class Leaf implements Node {}\n",
        "src/main/java/a/Tree.java": "package a;\npublic class Tree implements Node {}\n",
        "src/main/java/c/Odd.java": "package c;\nimport a.*;\nimport b.*;\n"
        "public class Odd implements Node {}\n",  # on-demand from both: ambiguous, left out
    }  # fmt: skip
    answers = _answers(files, "type.subtypes")
    assert answers == {"a.Node": "- `a.Tree`", "b.Node": "- `c.Leaf`"}


SPRING = {
    "src/main/java/shop/OrderController.java": """package shop;

@RestController
@RequestMapping("/orders")
public class OrderController {
    private final OrderService orders;
    OrderController(OrderService orders) { this.orders = orders; }

    /** Places an order. */
    @PostMapping
    public Order place(@RequestBody Order order) {
        return orders.place(order);
    }
}
""",
    "src/main/java/shop/OrderService.java": """package shop;

/** Order rules. */
@Service
public class OrderService {
    private final OrderRepository repository;
    private final Clock clock;
    OrderService(OrderRepository repository, Clock clock) {
        this.repository = repository;
        this.clock = clock;
    }

    /** Checks and stores an order. */
    public Order place(Order order) {
        order.stamp(clock.now());
        return repository.save(order);
    }
}
""",
    "src/main/java/shop/OrderRepository.java": """package shop;

/** Stores orders. */
public interface OrderRepository {
    /** Saves an order. */
    Order save(Order order);
}
""",
    "src/main/java/shop/Order.java": """package shop;

public class Order {
    void stamp(long at) { }
}
""",
    "src/main/java/shop/Clock.java": """package shop;

public class Clock {
    /** The time now. */
    long now() { return 0; }
}
""",
}


def test_a_route_is_traced_from_handler_to_service_to_repository():
    pairs = _pairs(SPRING)
    [(instruction, output)] = pairs["http.flow"].items()
    assert "POST /orders" in instruction
    assert output == (
        "The handler is `OrderController.place`: Places an order.\n\n"
        "It calls:\n"
        "- `OrderService.place`: Checks and stores an order.\n"
        "  - `Clock.now`: The time now.\n"
        "  - `OrderRepository.save`: Saves an order."
    )  # the service's call on the order (an entity, not a collaborator) is left out
    callers = _answers(SPRING, "method.callers")
    assert callers["shop.OrderRepository.save()"] == "- `OrderService.place`"


def test_relations_skip_a_repository_that_mixes_in_another_language():
    units = _slice(SHAPES)
    kotlin = units[0].model_copy(
        update={"language": "kotlin", "id": "k", "path": "src/main/kotlin/K.kt"}
    )
    graph = RelationGraph(RepoView([*units, kotlin]))
    assert graph.mixed
    tasks = {t for c in tg.repo_level_candidates([*units, kotlin]) for t in [c.task]}
    assert "method.callers" not in tasks and "method.overrides" in tasks


# -- the text helpers -------------------------------------------------------------------


def test_calls_read_receivers_and_skip_declarations_literals_and_comments():
    text = strip_noise(
        'int run() { Room room = rooms.get("f(x)"); // g(y)\n'
        "  return this.size(room).count() + Money::plus + helper(1, f(2, 3)); }"
    )
    assert [(c.receiver, c.name, c.arity) for c in calls(text)] == [
        ("rooms", "get", 1),
        ("this", "size", 1),
        (")", "count", 0),
        ("Money", "plus", None),
        (None, "helper", 2),
        (None, "f", 2),
    ]
    assert isinstance(calls(text)[0], Call)


def test_local_types_and_type_words():
    text = strip_noise("for (Booking b : all) { var p = new Page<>(b); Map<K, V> m = null; }")
    assert local_types(text) == {"b": "Booking", "p": "Page", "m": "Map"}
    assert type_words("Result.Success<T> s = Money.of(1); x.Total") == {
        "Result", "Result.Success", "Money", "T",
    }  # fmt: skip


def test_an_overloaded_method_is_named_with_its_parameters_even_when_alone():
    files = {
        "src/main/java/p/Box.java": "package p;\npublic class Box {\n"
        "  void add(int x) { }\n  void add(int... xs) { for (int x : xs) { add(x); } }\n}\n",
    }  # fmt: skip
    pairs = _pairs(files)
    # only add(int) has callers and only add(int...) has callees: each is asked by its
    # parameters, and the call with one argument is the fixed-arity one (as in Java)
    assert list(pairs["method.callers"].values()) == ["- `Box.add(int...)`"]
    assert "add(int x)" in next(iter(pairs["method.callers"]))
    assert list(pairs["method.callees"].values()) == ["- `Box.add(int)`"]
    assert "add(int... xs)" in next(iter(pairs["method.callees"]))


def test_a_call_on_an_enum_constant_reaches_the_enum_or_the_constant_body():
    files = {
        "src/main/java/p/Level.java": "package p;\npublic enum Level {\n  LOW,\n"
        "  HIGH { @Override int weight() { return 9; } };\n  int weight() { return 1; }\n}\n",
        "src/main/java/p/Use.java": "package p;\nclass Use {\n"
        "  int low() { return Level.LOW.weight(); }\n"
        "  int high() { return Level.HIGH.weight(); }\n}\n",
    }  # fmt: skip
    callers = _answers(files, "method.callers")
    assert callers["p.Level.weight()"] == "- `Use.low`"
    assert callers["p.Level.HIGH.weight()"] == "- `Use.high`"
    assert _answers(files, "method.overrides") == {
        "p.Level.HIGH.weight()": "It overrides `int weight()` of `p.Level`."
    }
