// The call-flow scripts of the configuration (CallFlowConfig, compiled by the loader) as
// the SIP service runs them (sip::SipFlow, engine/sip/sip_call_flow.h): each call to a
// flow's number gets a session running the script in its own flows::FlowRun, whose
// requests become the SIP side's steps and whose outcome becomes its decision. The script's
// call.log lines, and why a call ended in the flow's fallback (with the script line), are
// logged as structured events (flow.log, flow.fallback).
//
// Thread-safety: a session belongs to one thread (the SIP thread); sip::SipFlow values
// share the immutable compiled script.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/app/config_entities.h"
#include "engine/core/calendar.h"
#include "engine/core/ids.h"
#include "engine/core/snapshot.h"
#include "engine/flows/flow.h"
#include "engine/sip/sip_call_flow.h"
#include "engine/store/customer_lookup.h"

namespace acd::app {

// Where a tenant's scripts read queue figures (call.queue_status): the routing core's last
// published snapshot, from any thread without waiting (CoreThread::latest_snapshot). Empty:
// no queue is known.
struct FlowHostSources {
  std::function<std::shared_ptr<const core::CoreSnapshot>()> snapshot;
};

// What a tenant's scripts read of the host at once (flows::FlowHostInfo): `tenant`'s queue
// figures from `sources`, its `calendars` on the wall clock.
std::shared_ptr<const flows::FlowHostInfo> make_flow_host(
    core::TenantId tenant, std::vector<core::BusinessCalendar> calendars, FlowHostSources sources);

// `queues`: the tenant's queues by name, where the script's call.queue(name) and a queue
// fallback go. A script naming a queue the tenant does not have ends in the fallback.
// `host`: queue figures and calendars for the script (null: none). `skills`: the tenant's
// skills by name, for call.set_skill; a script naming another ends in the fallback.
sip::SipFlow make_sip_flow(const CallFlowConfig& flow,
                           std::map<std::string, core::QueueId, std::less<>> queues,
                           std::shared_ptr<const flows::FlowHostInfo> host = nullptr,
                           std::map<std::string, core::SkillId, std::less<>> skills = {});

// call.lookup's table: the customer's name, account, tier and notes (those not empty) and
// the record's own fields.
std::map<std::string, std::string> customer_fields(const store::CustomerRecord& customer);

// call.lookup through the database's customer lookup (on its worker thread; `done` is
// called there). A failed or refused lookup answers "not found". `customers` must outlive
// every lookup the SIP side starts (the daemon stops it after the SIP side).
sip::SipCustomerLookup make_flow_customer_lookup(store::CustomerLookup& customers);

}  // namespace acd::app
