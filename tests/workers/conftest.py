from tests.services import s3_server, s3_url  # noqa: F401 - the clip window tests use them
