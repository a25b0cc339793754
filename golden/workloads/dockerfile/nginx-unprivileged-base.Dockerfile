# workload: an SPA served from nginx-unprivileged (already uid 101, port 8080)
# expect: final.USER absent; fix of DF002 is absent
# expect: final.FROM = nginxinc/nginx-unprivileged:1.27-alpine
# evidence: nginxinc/docker-nginx-unprivileged mainline/debian/Dockerfile#L156-L162
# evidence: nginxinc/docker-nginx-unprivileged mainline/debian/Dockerfile#L17-L20
FROM nginxinc/nginx-unprivileged:1.27-alpine
COPY --chown=nginx:nginx dist/ /usr/share/nginx/html/
EXPOSE 8080
