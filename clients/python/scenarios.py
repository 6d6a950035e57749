"""The interop scenarios, driven by python-kairosdb (PyPI) against a running server.

`python scenarios.py http://127.0.0.1:PORT/api/v1` with the patched package on PYTHONPATH (see scripts/clients.ts).
The package has no helper to push points or to query tags: those two go through its own HTTP layer
(`KairosDBAPIClient.post`), like everything else it does. Prints `ok <scenario>`; the first failure prints
`FAIL <scenario>: <why>` and exits 1.
"""
import sys

import kairosdb

T0 = 1_699_999_200_000  # on the hour
METRIC = "python.cpu"


def main(endpoint):
    api = kairosdb.KairosDBAPI(kairosdb.client.KairosDBAPIClient(api_endpoint=endpoint))
    http = api.api_client
    window = {"start_absolute": T0 - 1, "end_absolute": T0 + 10_000}

    def query(**metric):
        answer = api.query_metrics(dict(window, metrics=[dict(name=METRIC, **metric)]))
        check(answer["return_code"] == 200, answer)
        return answer["queries"][0]["results"]

    run("version", lambda: check(api.version.startswith("koa-kairosdb"), api.version))
    run("health check", lambda: check(api.health_check["return_code"] == 204, api.health_check))
    def push():
        answer = http.post("datapoints", data=[
            {"name": METRIC, "tags": {"host": "a"}, "datapoints": [[T0, 10], [T0 + 1000, 20], [T0 + 2000, 30]]},
            {"name": METRIC, "tags": {"host": "b"}, "datapoints": [[T0, 1.5]]},
        ])
        check(answer["return_code"] == 204, answer)
    run("push", push)

    def exact():
        result = query(tags={"host": ["a"]})[0]
        check(result["values"] == [[T0, 10], [T0 + 1000, 20], [T0 + 2000, 30]], result)
        check(result["tags"] == {"host": ["a"]}, result)
    run("query exact values and tags", exact)
    run("sum aggregator by the hour", lambda: check(
        query(aggregators=[{"name": "sum", "sampling": {"value": 1, "unit": "hours"}}])[0]["values"] == [[T0, 61.5]], "sum"))

    def grouped():
        results = query(group_by=[{"name": "tag", "tags": ["host"]}])
        check([r["tags"]["host"] for r in results] == [["a"], ["b"]], results)
        check(results[0]["group_by"][0] == {"name": "tag", "tags": ["host"], "group": {"host": "a"}}, results[0])
    run("group by tag", grouped)
    run("limit and order", lambda: check(
        query(tags={"host": ["a"]}, limit=1, order="desc")[0]["values"] == [[T0 + 2000, 30]], "limit"))

    def tags():
        answer = http.post("datapoints/query/tags", data=dict(window, metrics=[{"name": METRIC}]))
        check(sorted(answer["queries"][0]["results"][0]["tags"]["host"]) == ["a", "b"], answer)
    run("tags query", tags)
    run("metric names", lambda: check(METRIC in api.metricnames, api.metricnames))

    def delete_points():
        answer = api.delete_datapoints({"start_absolute": T0 + 1000, "end_absolute": T0 + 1000,
                                        "metrics": [{"name": METRIC, "tags": {"host": ["a"]}}]})
        check(answer["return_code"] == 204, answer)
        check(query(tags={"host": ["a"]})[0]["values"] == [[T0, 10], [T0 + 2000, 30]], "after delete")
    run("delete points", delete_points)

    def delete_metric():
        check(api.delete_metric(METRIC)["return_code"] == 204, "delete")
        api._metricnames = None  # the package caches the list
        check(METRIC not in api.metricnames, api.metricnames)
        check(query()[0]["values"] == [], "values after delete")
    run("delete metric", delete_metric)

    def bad_request():
        answer = api.query_metrics(dict(window, metrics=[{"name": METRIC, "aggregators": [{"name": "nonsense"}]}]))
        check(answer["return_code"] == 400, answer)
        check(answer["errors"] == ["query.metric[0].aggregators[0].nonsense invalid aggregators name"], answer)
    run("a 400 with the server's message", bad_request)


def check(ok, detail):
    if not ok:
        raise AssertionError(detail)


def run(name, step):
    try:
        step()
    except Exception as error:  # noqa: BLE001 - every failure ends the run with its reason
        print(f"FAIL {name}: {error!r}")
        sys.exit(1)
    print(f"ok {name}")


if __name__ == "__main__":
    main(sys.argv[1])
