"""moto's application for a WSGI server other than moto_server's werkzeug,
which ends every connection after one answer ("Connection: close" always).
S3 itself keeps connections open, so a client's cost per request there has
no connection set-up in it (no TLS handshake over HTTPS); the benchmarks
measure that case on gunicorn (MotoServer(keep_alive=True)):

    gunicorn -k gthread moto_wsgi:app
"""

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

app = DomainDispatcherApplication(create_backend_app)
