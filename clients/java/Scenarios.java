import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Map;
import org.kairosdb.client.HttpClient;
import org.kairosdb.client.builder.AggregatorFactory;
import org.kairosdb.client.builder.DataPoint;
import org.kairosdb.client.builder.MetricBuilder;
import org.kairosdb.client.builder.QueryBuilder;
import org.kairosdb.client.builder.QueryMetric;
import org.kairosdb.client.builder.QueryTagBuilder;
import org.kairosdb.client.builder.TimeUnit;
import org.kairosdb.client.builder.grouper.TagGrouper;
import org.kairosdb.client.response.QueryResponse;
import org.kairosdb.client.response.Result;
import org.kairosdb.client.response.UnexpectedResponseException;

/**
 * The interop scenarios, driven by the official KairosDB Java client against a running server:
 * `java -cp <client class path> Scenarios.java http://127.0.0.1:PORT`. Prints `ok <scenario>` per scenario;
 * the first failure prints `FAIL <scenario>: <why>` and exits 1.
 */
public class Scenarios {
  static final long T0 = 1_699_999_200_000L; // on the hour
  static final String METRIC = "java.cpu";

  public static void main(String[] args) throws Exception {
    try (HttpClient client = new HttpClient(args[0])) {
      run("version", () -> check(client.getVersion().startsWith("koa-kairosdb"), client.getVersion()));
      run("health check", () -> check(client.getStatusCheck() == 204, "status " + client.getStatusCheck()));
      run("push gzipped", () -> {
        MetricBuilder builder = MetricBuilder.getInstance();
        builder.setCompression(true);
        builder.addMetric(METRIC).addTag("host", "a").addDataPoint(T0, 10L).addDataPoint(T0 + 1000, 20L).addDataPoint(T0 + 2000, 30L);
        builder.addMetric(METRIC).addTag("host", "b").addDataPoint(T0, 1.5);
        client.pushMetrics(builder);
      });
      run("query exact values and tags", () -> {
        Result result = first(client.query(query(q -> q.addTag("host", "a"))));
        check(points(result).equals("[" + T0 + "=10, " + (T0 + 1000) + "=20, " + (T0 + 2000) + "=30]"), points(result));
        check(result.getTags().get("host").equals(List.of("a")), String.valueOf(result.getTags()));
      });
      run("sum aggregator by the hour", () -> {
        Result result = first(client.query(query(q -> q.addAggregator(AggregatorFactory.createSumAggregator(1, TimeUnit.HOURS)))));
        check(result.getDataPoints().size() == 1 && result.getDataPoints().get(0).doubleValue() == 61.5, points(result));
      });
      run("group by tag", () -> {
        QueryResponse response = client.query(query(q -> q.addGrouper(new TagGrouper("host"))));
        List<Result> results = response.getQueries().get(0).getResults();
        check(results.size() == 2, results.size() + " groups");
        check(results.get(0).getTags().get("host").equals(List.of("a")) && results.get(1).getTags().get("host").equals(List.of("b")), results.toString());
      });
      run("limit and order", () -> {
        Result result = first(client.query(query(q -> {
          q.addTag("host", "a");
          q.setLimit(1);
          q.setOrder(QueryMetric.Order.DESCENDING);
        })));
        check(points(result).equals("[" + (T0 + 2000) + "=30]"), points(result));
      });
      run("tags query", () -> {
        QueryTagBuilder builder = QueryTagBuilder.getInstance().setStart(new Date(T0 - 1)).setEnd(new Date(T0 + 10_000));
        builder.addMetric(METRIC);
        Map<String, List<String>> tags = client.queryTags(builder).getQueries().get(0).getResults().get(0).getTags();
        check(new ArrayList<>(tags.get("host")).containsAll(List.of("a", "b")), String.valueOf(tags));
      });
      run("metric names", () -> check(client.getMetricNames().contains(METRIC), String.valueOf(client.getMetricNames())));
      run("delete points", () -> {
        QueryBuilder builder = QueryBuilder.getInstance().setStart(new Date(T0 + 1000)).setEnd(new Date(T0 + 1000));
        builder.addMetric(METRIC).addTag("host", "a");
        client.delete(builder);
        Result result = first(client.query(query(q -> q.addTag("host", "a"))));
        check(points(result).equals("[" + T0 + "=10, " + (T0 + 2000) + "=30]"), points(result));
      });
      run("delete metric", () -> {
        client.deleteMetric(METRIC);
        check(!client.getMetricNames().contains(METRIC), String.valueOf(client.getMetricNames()));
        Result result = first(client.query(query(q -> {})));
        check(result.getDataPoints().isEmpty(), points(result));
      });
      run("push_long_64bit", () -> {
        // Longs beyond 2^53 (a double cannot hold them), pushed and read back exactly.
        MetricBuilder builder = MetricBuilder.getInstance();
        builder.addMetric("java.long64").addTag("host", "a").addDataPoint(T0, Long.MAX_VALUE).addDataPoint(T0 + 1000, 9007199254740993L).addDataPoint(T0 + 2000, Long.MIN_VALUE);
        client.pushMetrics(builder);
        QueryBuilder query = QueryBuilder.getInstance().setStart(new Date(T0 - 1)).setEnd(new Date(T0 + 10_000));
        query.addMetric("java.long64");
        Result result = first(client.query(query));
        check(points(result).equals("[" + T0 + "=" + Long.MAX_VALUE + ", " + (T0 + 1000) + "=9007199254740993, " + (T0 + 2000) + "=" + Long.MIN_VALUE + "]"), points(result));
      });
      run("a 400 with the server's message", () -> {
        try {
          client.query(query(q -> q.addAggregator(AggregatorFactory.createCustomAggregator("nonsense", "\"x\": 1"))));
          check(false, "no error");
        } catch (UnexpectedResponseException e) {
          check(e.getStatusCode() == 400, "status " + e.getStatusCode());
          check(e.getMessage().contains("nonsense invalid aggregators name"), e.getMessage());
        }
      });
    }
  }

  interface Step { void run() throws Exception; }
  interface MetricSetup { void apply(QueryMetric metric); }

  static QueryBuilder query(MetricSetup setup) {
    QueryBuilder builder = QueryBuilder.getInstance().setStart(new Date(T0 - 1)).setEnd(new Date(T0 + 10_000));
    setup.apply(builder.addMetric(METRIC));
    return builder;
  }

  static Result first(QueryResponse response) {
    return response.getQueries().get(0).getResults().get(0);
  }

  static String points(Result result) throws Exception {
    List<String> out = new ArrayList<>();
    for (DataPoint p : result.getDataPoints()) out.add(p.getTimestamp() + "=" + (p.isIntegerValue() ? String.valueOf(p.longValue()) : String.valueOf(p.doubleValue())));
    return out.toString();
  }

  static void check(boolean ok, String detail) {
    if (!ok) throw new AssertionError(detail);
  }

  static void run(String name, Step step) {
    try {
      step.run();
      System.out.println("ok " + name);
    } catch (Throwable t) {
      System.out.println("FAIL " + name + ": " + t);
      System.exit(1);
    }
  }
}
