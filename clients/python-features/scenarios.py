"""The `/features` scenarios, driven by kairosdb-python (PyPI; the Python package with a features call) against a
running server.

`python scenarios.py http://127.0.0.1:PORT` with the package and its requirements (httpx, pandas) on PYTHONPATH (see
scripts/clients.ts). Expectations are KairosDB 1.3's answers (FeaturesResource, FeaturesResourceTest): the list of
features named `group_by` and `aggregators`, and each feature a bare array of its processors. Prints
`ok <scenario>`; the first failure prints `FAIL <scenario>: <why>` and exits 1.
"""
import sys

from kairosdb import KairosDB

T0 = 1_699_999_200_000


def main(uri):
    db = KairosDB(uri)  # checks health on creation, as the package does

    run("health check", lambda: check(db.check_health() is True, "check_health"))

    def features():
        answer = db.features()
        check(isinstance(answer, list), answer)
        names = [f["name"] for f in answer]
        check(names == ["group_by", "aggregators"], names)
        for feature in answer:
            check(isinstance(feature["properties"], list) and feature["properties"], feature["name"])
    run("features", features)

    def aggregators():
        answer = db.features("aggregators")
        check(isinstance(answer, list), type(answer))
        names = {a["name"] for a in answer}
        for name in ("avg", "sum", "max", "min", "count", "rate", "save_as", "filter"):
            check(name in names, f"{name} not in {sorted(names)}")
        avg = next(a for a in answer if a["name"] == "avg")
        check({"name", "label", "description", "properties"} <= set(avg), avg)
        check(any(p["name"] == "sampling" for p in avg["properties"]), avg["properties"])
    run("features aggregators", aggregators)

    def groupers():
        answer = db.features("group_by")
        check(isinstance(answer, list), type(answer))
        check({"tag", "time", "value", "bin"} <= {g["name"] for g in answer}, [g["name"] for g in answer])
    run("features group_by", groupers)

    def unknown():
        try:
            db.features("nothing")
        except Exception:  # the package raises ApiCallError on any status it does not call success
            return
        raise AssertionError("an unknown feature did not fail")
    run("unknown feature fails", unknown)

    def metric_names_and_query():
        names = db.get_metric_names()
        check(isinstance(names["results"], list), names)
        answer = db.query({"start_absolute": T0, "metrics": [{"name": "python.features.none"}]})
        check(answer["queries"][0]["results"][0]["values"] == [], answer)
    run("metric names and query", metric_names_and_query)


def check(condition, detail):
    if not condition:
        raise AssertionError(detail)


def run(name, scenario):
    try:
        scenario()
    except Exception as error:  # noqa: BLE001 - any failure is reported the same way
        print(f"FAIL {name}: {error!r}"[:2000])
        sys.exit(1)
    print(f"ok {name}")


if __name__ == "__main__":
    main(sys.argv[1])
