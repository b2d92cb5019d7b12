#!/usr/bin/env bash
# Creates aiwf's broker users on a virtual host, one per service, each allowed only what its service does, through
# RabbitMQ's management API. Safe to run again (it sets the same rights, and changes a password).
#
# What each user may do:
#   configure (declare, delete)  its own queues (named after its service: stage.*, provider.*, …) and the shared
#                                exchanges it declares; never another service's queues
#   read (consume, bind from)    its own queues and the shared exchanges; the Gateway also the dead-letter queues,
#                                which it replays
#   write (publish, bind to)     its own queues, aiwf.dlx (RabbitMQ asks it of a queue that dead-letters there),
#                                the default exchange (replies; see below), and on aiwf.requests
#                                and aiwf.events only the types it sends (topic permissions by routing key): only the
#                                Gateway sends project commands and approval decisions, only ProviderGateway
#                                generation results, only ApprovalService approval events, only StageService requests
#                                for generations and approvals
# RabbitMQ cannot limit publishing to the default exchange by queue: a service that answers requests (all of them)
# could put a message straight into another's queue by name. `guest` is for one machine only.
#
# Settings (environment):
#   AIWF_BROKER_API           the management API (default http://rabbitmq:15672)
#   AIWF_BROKER_ADMIN         an administrator's user:password (default guest:guest)
#   AIWF_BROKER_VHOST         the virtual host (default /)
#   AIWF_BROKER_USER_PREFIX   the users are <prefix>templates, <prefix>stages, <prefix>providers, <prefix>approvals,
#                             <prefix>gateway (default aiwf-)
#   AIWF_BROKER_PASSWORD_TEMPLATES, …_STAGES, …_PROVIDERS, …_APPROVALS, …_GATEWAY   their passwords (required)
set -euo pipefail

api=${AIWF_BROKER_API:-http://rabbitmq:15672}
admin=${AIWF_BROKER_ADMIN:-guest:guest}
vhost=${AIWF_BROKER_VHOST:-/}
prefix=${AIWF_BROKER_USER_PREFIX:-aiwf-}

# Percent-encodes one path segment.
encode() {
    local text=$1 out="" char i
    for ((i = 0; i < ${#text}; i++)); do
        char=${text:i:1}
        case $char in
        [a-zA-Z0-9._~-]) out+=$char ;;
        *) out+=$(printf '%%%02X' "'$char") ;;
        esac
    done
    printf '%s' "$out"
}

# A JSON string: backslashes and quotes escaped.
json() {
    local text=${1//\\/\\\\}
    printf '"%s"' "${text//\"/\\\"}"
}

put() {
    curl -fsS --retry 10 --retry-connrefused --retry-delay 2 -u "$admin" -H 'content-type: application/json' \
        -X PUT "$api/api/$1" -d "$2" >/dev/null || {
        echo "aiwf: the management API refused PUT /api/$1" >&2
        exit 1
    }
}

shared='aiwf\.(requests|events|dlx)'

# user SERVICE PASSWORD_VARIABLE CONFIGURE WRITE READ REQUEST_TYPES EVENT_TYPES
user() {
    local name=$prefix$1 variable=$2
    local password=${!variable:-}
    [ -n "$password" ] || {
        echo "aiwf: set $variable, the broker password of $name" >&2
        exit 2
    }
    local path
    path="$(encode "$vhost")/$(encode "$name")"
    put "users/$(encode "$name")" "{\"password\": $(json "$password"), \"tags\": \"\"}"
    put "permissions/$path" "{\"configure\": $(json "$3"), \"write\": $(json "$4"), \"read\": $(json "$5")}"
    put "topic-permissions/$path" "{\"exchange\": \"aiwf.requests\", \"write\": $(json "$6"), \"read\": \".*\"}"
    put "topic-permissions/$path" "{\"exchange\": \"aiwf.events\", \"write\": $(json "$7"), \"read\": \".*\"}"
    echo "aiwf: broker user $name on $vhost"
}

put "vhosts/$(encode "$vhost")" "{}"

user templates AIWF_BROKER_PASSWORD_TEMPLATES \
    "^(template\..*|$shared)\$" "^(template\..*|aiwf\.(events|dlx)|amq\.default)\$" "^(template\..*|$shared)\$" \
    '^$' '^template\.'

user stages AIWF_BROKER_PASSWORD_STAGES \
    "^(stage\..*|aiwf\.stage\..*|$shared)\$" "^(stage\..*|aiwf\.stage\..*|$shared|amq\.default)\$" \
    "^(stage\..*|aiwf\.stage\..*|$shared)\$" \
    '^(provider\.(generate-content|price-list)|template\.get|approval\.request)\.' '^stage\.'

user providers AIWF_BROKER_PASSWORD_PROVIDERS \
    "^(provider\..*|$shared)\$" "^(provider\..*|aiwf\.(events|dlx)|amq\.default)\$" "^(provider\..*|$shared)\$" \
    '^$' '^provider\.'

user approvals AIWF_BROKER_PASSWORD_APPROVALS \
    "^(approval\..*|$shared)\$" "^(approval\..*|aiwf\.(events|dlx)|amq\.default)\$" "^(approval\..*|$shared)\$" \
    '^$' '^approval\.'

user gateway AIWF_BROKER_PASSWORD_GATEWAY \
    "^(gateway\..*|$shared)\$" "^(gateway\..*|aiwf\.(requests|dlx)|amq\.default)\$" "^(gateway\..*|.*\.dead|$shared)\$" \
    '^((stage|template)\.|approval\.(decide|list-pending|history|open-review-link|activity)\.|provider\.(complete|status|price-list)\.)' '^$'
