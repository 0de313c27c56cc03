# shellcheck shell=bash
# Sourced by post-comment.sh, drift-issue.sh (GitHub and GitLab) and post-note.sh: a few
# REST calls with curl and jq, with the platform's error message on a failure. The token
# goes in a header file, never on a command line.
#
#   api_init BASE_URL 'Header: value'...   once, before any call
#   api_call METHOD PATH [JSON_FILE]       the answer in "$api_answer", the HTTP status in $api_status
#   api_need METHOD PATH [JSON_FILE]       api_call, and exit 1 unless the answer is 2xx
#   api_find PATH JQ_FILTER                pages through a list (100 a page); prints the
#                                          first value JQ_FILTER gives on a page
#   api_body FILE                          prints the path of {"body": <FILE's text>}

api_init() {
  api_base=${1%/}
  shift
  api_dir=$(mktemp -d)
  trap 'rm -rf "$api_dir"' EXIT
  printf '%s\n' "$@" >"$api_dir/headers"
  api_answer=$api_dir/answer
  api_status=
}

api_call() {
  local data=() retry=()
  if [ $# -ge 3 ]; then data=(-H "Content-Type: application/json" --data-binary "@$3"); fi
  # Only reads are retried: a resent POST could make a second comment.
  if [ "$1" = GET ]; then retry=(--retry 2); fi
  api_status=$(curl -sS "${retry[@]}" -o "$api_answer" -w '%{http_code}' -X "$1" \
    -H "@$api_dir/headers" "${data[@]}" "$api_base/$2") || api_status=000
}

api_need() {
  api_call "$@"
  case $api_status in
    2??) ;;
    000)
      echo "tagsync: cannot reach $api_base ($1 $2)" >&2
      exit 1
      ;;
    *)
      echo "tagsync: $1 $2 answered HTTP $api_status: $(head -c 500 "$api_answer")" >&2
      case $api_status in 401 | 403 | 404)
        echo "tagsync: check the token and the job's permissions (see examples/README.md)" >&2
        ;;
      esac
      exit 1
      ;;
  esac
}

api_find() {
  local page found sep='?'
  case $1 in *'?'*) sep='&' ;; esac
  for page in $(seq 1 100); do
    api_need GET "$1${sep}per_page=100&page=$page"
    found=$(jq -r "[.[] | $2][0] // empty" "$api_answer")
    if [ -n "$found" ]; then
      echo "$found"
      return 0
    fi
    if [ "$(jq length "$api_answer")" -lt 100 ]; then return 0; fi
  done
}

api_body() {
  jq -Rs '{body: .}' <"$1" >"$api_dir/body.json"
  echo "$api_dir/body.json"
}
