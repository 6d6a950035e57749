"""influxdb-client (PyPI) writes through the v2 API and the v1 compatibility path, as a user of it would."""
import sys
from datetime import datetime, timezone

from influxdb_client import InfluxDBClient, Point, WritePrecision
from influxdb_client.client.write_api import SYNCHRONOUS

url = sys.argv[1]
when = datetime.fromtimestamp(1700000000, tz=timezone.utc)
with InfluxDBClient(url=url, token="secret-token", org="acme") as client:
    write = client.write_api(write_options=SYNCHRONOUS)
    write.write(bucket="metrics", record=Point("cpu").tag("host", "web1").field("usage", 12.5).field("cores", 8).time(when, WritePrecision.S))
    write.write(bucket="metrics", record=["mem,host=web1 used=1024i 1700000001000000000", "mem,host=web2 used=2048i 1700000001000000000"])
    write.write(bucket="metrics", record=Point("app").tag("host", "web1").field("up", True).field("state", "ok").time(when, WritePrecision.MS))
    try:
        write.write(bucket="metrics", record="cpu,host=web1 usage=notanumber 1700000002000000000")
        print("bad line accepted")
        sys.exit(1)
    except Exception as error:  # the client raises ApiException for a 400
        status = getattr(error, "status", None)
        print(f"bad line refused: {status}")
        if status != 400:
            sys.exit(1)
print("done")
