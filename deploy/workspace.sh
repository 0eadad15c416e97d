# /etc/profile.d/workspace.sh: point every user's `ws` at the shared daemon.
if [ -z "${WORKSPACE_SOCKET:-}" ]; then
    export WORKSPACE_SOCKET=/run/workspace/ws.sock
fi
