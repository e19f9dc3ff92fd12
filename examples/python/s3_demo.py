"""The S3 exporter and retriever end to end on a local moto (started here
through tests/servers, with its signature checks on): flags read from the
bucket, evaluations exported as Parquet, the objects read back with boto3
and pyarrow. Run from the checkout after `make test-python` (or with
vexil, boto3 and pyarrow installed):

    out/pyvenv/bin/python examples/python/s3_demo.py
"""

import io
import os
import sys

import boto3
import pyarrow.parquet as pq

import vexil
from vexil.exporters import S3Exporter
from vexil.retrievers import S3Retriever

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "tests", "servers"))
from registry import server_class  # noqa: E402

os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")
moto = server_class("moto")().start()
try:
    aws = dict(endpoint=moto.endpoint, region="us-east-1", access_key_id=moto.access_key_id,
               secret_access_key=moto.secret_access_key)
    s3 = boto3.client("s3", endpoint_url=moto.endpoint, region_name="us-east-1",
                      aws_access_key_id=moto.access_key_id,
                      aws_secret_access_key=moto.secret_access_key)
    s3.put_object(Bucket="vexil", Key="flags.yaml", Body=b"""
banner:
  variations: {on: true, off: false}
  defaultRule: {percentage: {on: 50, off: 50}}
""")
    with vexil.Engine.from_retrievers(S3Retriever("vexil", "flags.yaml", **aws),
                                      poll_interval=30) as engine:
        engine.add_exporter(S3Exporter("vexil", path="events", format="parquet", **aws))
        for user in ("ada", "grace", "linus"):
            print(user, engine.bool_value("banner", False, {"targetingKey": user}))
    for obj in s3.list_objects_v2(Bucket="vexil", Prefix="events/")["Contents"]:
        body = s3.get_object(Bucket="vexil", Key=obj["Key"])["Body"].read()
        rows = pq.read_table(io.BytesIO(body)).to_pylist()
        print(obj["Key"], [(r["userKey"], r["variation"]) for r in rows])
finally:
    moto.close()
