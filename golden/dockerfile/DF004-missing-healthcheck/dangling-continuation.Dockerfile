FROM nginx:1.27
COPY site/ /usr/share/nginx/html/
RUN chmod -R a+r /usr/share/nginx/html \
