import type { ApprovalRequest, ApprovalRequests, AwaitingApproval } from "../../src/approvals/approval_request.js";

/** Keeps the requests the runner leaves for an approver, and answers each as waiting until `expiresAt`. */
export class RecordingApprovals implements ApprovalRequests {
  readonly requests: ApprovalRequest[] = [];

  constructor(private readonly expiresAt = "2030-01-01T00:00:00.000Z") {}

  async request(request: ApprovalRequest): Promise<AwaitingApproval> {
    this.requests.push(request);
    return { state: "awaiting_approval", runId: request.runId, plugin: request.plugin, expiresAt: this.expiresAt, location: `/api/runs/${request.runId}` };
  }
}
