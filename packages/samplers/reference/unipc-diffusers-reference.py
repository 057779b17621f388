# Float64 re-derivation of diffusers' UniPCMultistepScheduler full loop (test_scheduler_unipc.py conventions),
# written from the UniPC equations; for cross-checking only.
import numpy as np
def run(shape, pred='eps', karras=False, order=2, variant='bh2', x0=True, n=10, lof=True, start=0):
    N=1000
    betas=np.linspace(1e-4,0.02,N,dtype=np.float32).astype(np.float64)
    ac=np.cumprod(1-betas)
    st=np.sqrt((1-ac)/ac)
    if not karras:
        ts=np.linspace(0,N-1,n+1).round()[::-1][:-1].astype(int)
        sig=np.array(list(st[ts])+[st[0]])
    else:
        smin,smax,rho=st[0],st[-1],7.0
        s=(smax**(1/rho)+np.linspace(0,1,n)*(smin**(1/rho)-smax**(1/rho)))**rho
        # the (fractional) step index with that sigma: log sigma is interpolated linearly between steps
        ts=np.interp(np.log(s),np.log(st),np.arange(N)).round().astype(int)
        sig=np.array(list(s)+[s[-1]])
    al=1/np.sqrt(sig**2+1); sg=sig*al; lam=np.log(al)-np.log(sg)
    B,rest=shape[0],shape[1:]; tot=B*int(np.prod(rest))
    x=np.moveaxis(np.arange(tot).reshape(*rest,B)/tot,-1,0)
    def Bh(hh): return hh if variant=='bh1' else np.expm1(hh)
    def rhs(K,hh):
        g=[]; hp=np.expm1(hh)/hh-1; f=1
        for i in range(1,K+1):
            g.append(hp*f); f*=i+1; hp=hp/hh-1/f
        return np.array(g)
    def upd(xs, i0, j, ms, p, mt=None):
        # from index i0 (history ms newest last, lam indices i0, i0-1, ...) to sigma index j
        h=lam[j]-lam[i0]; hh=-h if x0 else h
        pre,base=(sg[j]/sg[i0],al[j]) if x0 else (al[j]/al[i0],sg[j])
        out=pre*xs-base*np.expm1(hh)*ms[-1]
        K=p if mt is not None else p-1
        if K==0: return out
        rs=[(lam[i0-k]-lam[i0])/h for k in range(1,p)]+([1.0] if mt is not None else [])
        if K==1: a=[0.5]
        else:
            R=np.array([[r**k for r in rs] for k in range(K)]); a=np.linalg.solve(R,rhs(K,hh)/Bh(hh))
        Ds=[(ms[-1-k]-ms[-1])/rs[k-1] for k in range(1,p)]+([mt-ms[-1]] if mt is not None else [])
        return out-base*Bh(hh)*sum(ak*D for ak,D in zip(a,Ds))
    if start:  # test_full_loop_with_noise: add_noise at sigma index `start`, then its last steps
        noise=np.moveaxis((tot-1-np.arange(tot)).reshape(*rest,B)/tot,-1,0)
        x=al[start]*x+sg[start]*noise
    hist=[]; last=None; po=None
    for i,t in enumerate(ts):
        if i<start: continue
        out=x*t/(t+1)
        if pred=='eps': e,d=out,(x-sg[i]*out)/al[i]
        elif pred=='v': d=al[i]*x-sg[i]*out; e=al[i]*out+sg[i]*x
        else: d=out; e=(x-al[i]*out)/sg[i]
        m=d if x0 else e
        if i>start: x=upd(last,i-1,i,hist,po,m)
        hist=(hist+[m])[-order:]
        p=min(order,len(hist)); 
        if lof: p=min(p,len(ts)-i)
        po=p; last=x
        x = x if lam[i+1]==lam[i] else upd(x,i,i+1,hist,p)
    return float(np.abs(x).mean()), float(np.abs(x).sum())
if __name__=='__main__':
    for shape in [(4,3,8,8),(4,3,8)]: print(shape,'with noise',run(shape,start=8))
    for shape in [(4,3,8,8),(4,3,8)]:
        for pred in ['eps','v']:
            for k in [False,True]: print(shape,pred,k,run(shape,pred,k))
    for shape in [(4,3,8,8)]:
        for order in [1,2,3]:
            for variant in ['bh1','bh2']:
                for x0 in [True,False]:
                    for pred in ['eps','sample']:
                        print(shape,order,variant,'x0' if x0 else 'eps-form',pred,run(shape,pred,False,order,variant,x0))
