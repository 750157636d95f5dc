import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { User } from '../../db/models';
import { isUniqueViolation } from '../../db/tenant-scope';
import { ROLES, TENANT_ROLES } from '../../domain/roles';
import { hashPassword } from '../../infra/passwords';
import { keysetPage, pageOf, pageQuery } from '../pagination';
import { conflict, notFound } from '../problem';
import { route } from '../route';
import { email, password, personName, uuidParam } from '../schemas';

const userView = z.object({
  id: z.uuid(),
  email: z.string(),
  name: z.string(),
  role: z.enum(ROLES),
  active: z.boolean(),
  createdAt: z.iso.datetime(),
  lastLoginAt: z.iso.datetime().nullable(),
});

const toView = (u: User): z.infer<typeof userView> => ({
  id: u.id,
  email: u.email,
  name: u.name,
  role: u.role,
  active: u.active,
  createdAt: u.createdAt.toISOString(),
  lastLoginAt: u.lastLoginAt?.toISOString() ?? null,
});

const booleanString = z.enum(['true', 'false']).transform((v) => v === 'true');

export const listUsers = route({
  method: 'get',
  path: '/users',
  summary: 'List the tenant’s users',
  tags: ['users'],
  access: { roles: ['TENANT_ADMIN', 'MANAGER'], scopes: ['users:read'] },
  query: pageQuery.extend({
    role: z.enum(TENANT_ROLES).optional(),
    active: booleanString.optional(),
    q: z.string().trim().min(1).max(100).optional(),
  }),
  responses: { 200: { description: 'A page of users', schema: pageOf(userView) } },
  async handler({ query, db }) {
    const qb = User.query(db);
    if (query.role) qb.where({ role: query.role });
    if (query.active !== undefined) qb.where({ active: query.active });
    if (query.q) {
      const like = `%${query.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      qb.where((w) => w.whereILike('name', like).orWhereILike('email', like));
    }
    const { rows, nextCursor } = await keysetPage(qb, query);
    return { body: { items: rows.map(toView), nextCursor } };
  },
});

export const createUser = route({
  method: 'post',
  path: '/users',
  summary: 'Create a user in the tenant',
  tags: ['users'],
  access: { roles: ['TENANT_ADMIN'] },
  body: z.object({ name: personName, email, role: z.enum(TENANT_ROLES), password }).strict(),
  responses: { 201: { description: 'Created', schema: userView }, 409: { description: 'E-mail already registered' } },
  async handler({ body, principal, db, audit }) {
    const id = randomUUID();
    try {
      const user = await User.query(db).insertAndFetch({
        id, tenantId: principal.tenantId, email: body.email, name: body.name, role: body.role,
        passwordHash: await hashPassword(body.password), active: true,
      });
      await audit({ action: 'user.created', entityType: 'user', entityId: id, details: { email: body.email, role: body.role } });
      return { status: 201, headers: { location: `/api/users/${id}` }, body: toView(user) };
    } catch (err) {
      if (isUniqueViolation(err, 'users_email')) throw conflict(`O e-mail ${body.email} já está cadastrado.`);
      throw err;
    }
  },
});

export const getUser = route({
  method: 'get',
  path: '/users/:userId',
  summary: 'One user of the tenant',
  tags: ['users'],
  access: { roles: ['TENANT_ADMIN', 'MANAGER'], scopes: ['users:read'] },
  params: uuidParam('userId'),
  responses: { 200: { description: 'The user', schema: userView }, 404: { description: 'Not in this tenant' } },
  async handler({ params, db }) {
    const user = await User.query(db).findById(params.userId);
    if (!user) throw notFound('Usuário não encontrado.');
    return { body: toView(user) };
  },
});

export const updateUser = route({
  method: 'patch',
  path: '/users/:userId',
  summary: 'Change a user’s name, role, password or active flag',
  tags: ['users'],
  access: { roles: ['TENANT_ADMIN'] },
  params: uuidParam('userId'),
  body: z
    .object({ name: personName, role: z.enum(TENANT_ROLES), active: z.boolean(), password })
    .partial()
    .strict()
    .refine((b) => Object.keys(b).length > 0, 'send at least one field'),
  responses: {
    200: { description: 'Updated', schema: userView },
    404: { description: 'Not in this tenant' },
    409: { description: 'Would leave the tenant without an active admin' },
  },
  async handler({ params, body, db, deps, audit }) {
    const user = await User.query(db).findById(params.userId).forUpdate();
    if (!user) throw notFound('Usuário não encontrado.');
    const losesAdmin = user.role === 'TENANT_ADMIN' && user.active && (body.active === false || (body.role && body.role !== 'TENANT_ADMIN'));
    if (losesAdmin) {
      const admins = await User.query(db).where({ role: 'TENANT_ADMIN', active: true }).forUpdate();
      if (admins.length <= 1) throw conflict('A empresa precisa de pelo menos um administrador ativo.');
    }
    const patch: Partial<User> = { updatedAt: new Date() };
    if (body.name !== undefined) patch.name = body.name;
    if (body.role !== undefined) patch.role = body.role;
    if (body.active !== undefined) patch.active = body.active;
    if (body.password !== undefined) patch.passwordHash = await hashPassword(body.password);
    const updated = await User.query(db).patchAndFetchById(user.id, patch);
    // A deactivated user, a new role or a reset password must not live on in old tokens.
    if (body.active === false || body.password !== undefined || (body.role && body.role !== user.role)) {
      await deps.sessions.closeAllFor(db, user.id);
    }
    await audit({
      action: 'user.updated', entityType: 'user', entityId: user.id,
      details: { changed: Object.keys(body), ...(body.role ? { role: body.role } : {}), ...(body.active !== undefined ? { active: body.active } : {}) },
    });
    return { body: toView(updated) };
  },
});

export const userRoutes = [listUsers, createUser, getUser, updateUser];
