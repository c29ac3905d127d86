/**
 * The licensing portal: the web pages the vendor's and its customers' administrators manage
 * licenses in (docs/portal.md). The server mounts {@link createPortal} at `/portal` and
 * {@link portalAdminRoutes} under `/v1/admin/portal/`.
 */
export { createPortal, type Portal, type PortalOptions } from './portal.js';
export { portalAdminRoutes } from './admin-api.js';
export { addAccount, changeCompanyLicenses, createCompany, getCompany, listAccounts, listCompanies, removeAccount, resetAccountPassword, type Account, type Company } from './companies.js';
