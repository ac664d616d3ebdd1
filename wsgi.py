"""WSGI entry point: ``gunicorn -k gthread --threads 50 -w 1 wsgi:app``.

``socketio`` is exposed for runners that serve Socket.IO themselves.
"""

from frontdesk import create_app
from frontdesk.realtime import get_socketio

app = create_app()
socketio = get_socketio(app)
